"""The ``d4py`` command line."""

from d4py.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
