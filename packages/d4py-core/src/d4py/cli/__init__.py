"""The ``d4py`` command line."""

from d4py.cli.app import app, main

__all__ = ["app", "main"]
