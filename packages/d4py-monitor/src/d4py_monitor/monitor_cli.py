"""``d4py monitor``: the monitoring service's commands, each configured by the module that holds it."""

from __future__ import annotations

import argparse

from d4py_monitor.collect_cli import configure_collect
from d4py_monitor.dashboard.command import configure_dashboard

__all__ = ["configure"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Fill in the parser of ``d4py monitor``."""
    parser.description = (
        "The monitoring service: the dashboard of recorded runs, and a collector of runs from anywhere."
    )
    commands = parser.add_subparsers(metavar="COMMAND")
    configure_dashboard(commands)
    configure_collect(commands)
