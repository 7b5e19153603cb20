"""dispel4py.base, served by d4py: its PE classes with dispel4py 1.x's run-time behaviour."""

from d4py import pe as d4py_pe
from d4py._compat.dispel4py.core import Dispel4pyPE, GenericPE
from d4py.composite import CompositePE, create_iterative_chain

__all__ = [
    "BasePE",
    "CompositePE",
    "ConsumerPE",
    "GenericPE",
    "IterativePE",
    "ProducerPE",
    "SimpleFunctionPE",
    "create_iterative_chain",
]


class BasePE(Dispel4pyPE, d4py_pe.BasePE):
    """dispel4py.base.BasePE."""


class IterativePE(Dispel4pyPE, d4py_pe.IterativePE):
    """dispel4py.base.IterativePE."""


class ProducerPE(Dispel4pyPE, d4py_pe.ProducerPE):
    """dispel4py.base.ProducerPE."""


class ConsumerPE(Dispel4pyPE, d4py_pe.ConsumerPE):
    """dispel4py.base.ConsumerPE."""


class SimpleFunctionPE(Dispel4pyPE, d4py_pe.SimpleFunctionPE):
    """dispel4py.base.SimpleFunctionPE."""
