"""Commands that installed packages add to ``d4py``, found by name without importing them.

A distribution declares each command as an entry point of the group
``d4py.commands``: the entry point's name is the command, its value a function
that fills in the command's ``argparse.ArgumentParser`` and sets a ``handler``
default, called with the parsed arguments::

    [project.entry-points."d4py.commands"]
    storm = "d4py_storm.cli:configure"

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.description = "Build and run workflows as Apache Storm topologies."
        build = parser.add_subparsers(required=True, metavar="COMMAND").add_parser("build", help="...")
        build.add_argument("workflow", metavar="WORKFLOW")
        build.set_defaults(handler=build_topology)  # handler(args) -> exit code or None

Only the command the user typed is imported, so a plugin's command costs
nothing to other commands. A handler reports bad input by raising a
``D4pyError`` (``UsageError`` and its kin exit 2, others 1), which is printed
as one line; argparse's own usage errors exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from d4py._exceptions import D4pyError, PluginError
from d4py.entrypoints import EntryPoint, entry_points

__all__ = ["COMMANDS_GROUP", "plugin_commands", "run_plugin_command"]

COMMANDS_GROUP = "d4py.commands"


def plugin_commands() -> dict[str, EntryPoint]:
    """The commands installed packages add, by name, not yet imported."""
    return {entry.name: entry for entry in entry_points(group=COMMANDS_GROUP)}


def command_parser(entry: EntryPoint) -> argparse.ArgumentParser:
    """Import a plugin command and build its parser, naming the distribution if that fails."""
    parser = argparse.ArgumentParser(prog=f"d4py {entry.name}")
    try:
        configure: Any = entry.load()
        configure(parser)
    except Exception as error:
        problem = f"{type(error).__name__}: {error}"
        raise PluginError(f"the command {entry.name!r} from {entry.distribution} failed to load: {problem}") from error
    return parser


def run_plugin_command(entry: EntryPoint, argv: Sequence[str]) -> int:
    """Parse ``argv`` for one plugin command, run its handler and return the exit code."""
    try:
        parser = command_parser(entry)
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return 2
        code = handler(args)
    except D4pyError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)
