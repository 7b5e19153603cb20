"""dispel4py.core, served by d4py."""

from d4py.pe import GROUPING, NAME, TYPE, GenericPE

DESCRIPTION = "descr"
META = "meta"
WRITER = "writer"

__all__ = ["DESCRIPTION", "GROUPING", "META", "NAME", "TYPE", "WRITER", "GenericPE"]
