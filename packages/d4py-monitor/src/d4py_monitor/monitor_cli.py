"""``d4py monitor``: the monitoring service's commands, each configured by the module that holds it."""

from __future__ import annotations

import argparse

from d4py_monitor.collect_cli import configure_collect

__all__ = ["configure"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Fill in the parser of ``d4py monitor``."""
    parser.description = "The monitoring service: collect the records of runs from anywhere."
    commands = parser.add_subparsers(metavar="COMMAND")
    configure_collect(commands)
