"""The ``d4py`` commands: run, check, graph draw, backends, plugins, and those packages add.

Built on argparse, and importing only what the command typed needs: a
``d4py run`` pays for no table, colour or progress library it does not show
(typer and rich were about 45 ms of every run's start-up, 2 cores, 2026-11-27).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from d4py.__about__ import __version__
from d4py._exceptions import D4pyError, PluginError, UsageError
from d4py.cli.commands import plugin_commands, run_plugin_command
from d4py.cli.report import print_error, print_result, result_json

if TYPE_CHECKING:
    from d4py.plugins import PluginManager

__all__ = ["build_parser", "main"]

CORE_COMMANDS = ("run", "check", "graph", "backends", "plugins")
WORKFLOW_HELP = "Dotted module name or path to a .py file holding the graph."
ATTR_HELP = "The graph (or a function returning it) in the module."


class _HelpFormatter(argparse.HelpFormatter):
    """Options as command lines write them: ``-d, --data JSON``, not ``-d JSON, --data JSON``."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=100)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings or action.nargs == 0:
            return super()._format_action_invocation(action)
        return f"{', '.join(action.option_strings)} {self._format_args(action, action.dest.upper())}"


def _at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if number < low:
            raise argparse.ArgumentTypeError(f"{number} is below {low}")
        return number

    return parse


def _command(
    commands: Any, name: str, summary: str, handler: Callable[[argparse.Namespace], None], usage: str | None = None
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=summary, description=summary, usage=usage, formatter_class=_HelpFormatter
    )
    parser.set_defaults(handler=handler)
    return parser


def _workflow_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow", metavar="WORKFLOW", help=WORKFLOW_HELP)
    parser.add_argument("-a", "--attr", metavar="NAME", help=ATTR_HELP)


def build_parser(plugins: PluginManager | None = None) -> argparse.ArgumentParser:
    """The parser of core's commands; commands from installed packages are listed in the epilog.

    With ``plugins``, ``run`` also takes the options they add (``d4py_cli_run_arguments``).
    """
    added = sorted(plugin_commands())
    parser = argparse.ArgumentParser(
        prog="d4py",
        description="Run stream-based scientific workflows on any backend.",
        epilog=f"Commands from installed packages: {', '.join(added)}" if added else None,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"d4py {__version__}", help="Print d4py's version.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    summary = "Run WORKFLOW and print what its unconnected outputs wrote."
    run = _command(commands, "run", summary, _run, usage="d4py run [OPTIONS] WORKFLOW")
    run.add_argument("workflow", metavar="WORKFLOW", help=WORKFLOW_HELP)
    run.add_argument(
        "-b", "--backend", metavar="NAME", default="simple", help="Backend that runs the graph (default: simple)."
    )
    run.add_argument("-a", "--attr", metavar="NAME", help=ATTR_HELP)
    run.add_argument("-i", "--iterations", metavar="N", type=_at_least(0), help="Call each root PE N times.")
    run.add_argument("-d", "--data", metavar="JSON", help='Input as JSON: {"PEName": N or [inputs, ...]}.')
    run.add_argument("-f", "--file", metavar="FILE", type=Path, help="Input as a JSON file (like -d).")
    run.add_argument(
        "-n", "--processes", metavar="N", type=_at_least(1), help="At most N processes run PEs; instances share them."
    )
    run.add_argument(
        "-o", "--option", metavar="KEY=VALUE", action="append", default=[], help="Backend option (repeatable)."
    )
    run.add_argument("--json", action="store_true", dest="as_json", help="Print the result as JSON.")
    run.add_argument("--check-types", action="store_true", help="Check every item against its port's declared type.")
    run.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, help="Live progress line (default: on a terminal)."
    )
    run.add_argument("-v", "--verbose", action="store_true", help="Show full tracebacks of load errors.")
    if plugins is not None:
        _plugin_run_arguments(plugins, run)

    check = _command(commands, "check", "Check WORKFLOW without running it.", _check)
    _workflow_arguments(check)
    check.add_argument(
        "-n",
        "--processes",
        metavar="N",
        type=_at_least(1),
        help="Plan for at most N processes and print which instances share each.",
    )

    graph = _command(commands, "graph", "Look at a workflow graph.", _help_of(commands, "graph"))
    draw = _command(
        graph.add_subparsers(metavar="COMMAND"), "draw", "Draw WORKFLOW as Graphviz DOT, SVG or PNG.", _draw
    )
    _workflow_arguments(draw)
    draw.add_argument(
        "-o", "--output", metavar="FILE", type=Path, help="File to write: .dot, .svg or .png (default: DOT on stdout)."
    )

    _command(commands, "backends", "List backends, whether they can run here, and their options.", _backends)
    _command(commands, "plugins", "List plugins and the distributions that provide them.", _plugins)
    return parser


def _plugin_run_arguments(plugins: PluginManager, run: argparse.ArgumentParser) -> None:
    for impl in plugins.hook.d4py_cli_run_arguments.get_hookimpls():
        try:
            impl.function(run)
        except argparse.ArgumentError as error:  # an option core or another plugin already has
            raise PluginError(f"the d4py plugin {impl.plugin_name!r} cannot add its run options: {error}") from error


def _help_of(commands: Any, name: str) -> Callable[[argparse.Namespace], None]:
    def show(args: argparse.Namespace) -> None:
        commands.choices[name].print_help()
        raise SystemExit(2)

    return show


def _run(args: argparse.Namespace) -> None:
    from d4py.inputs import run_input_from
    from d4py.loader import load_workflow
    from d4py.pe import show_pe_logs
    from d4py.plugins import get_plugin_manager
    from d4py.runner import run as run_graph

    get_plugin_manager().hook.d4py_cli_run_parsed(args=args)
    show_pe_logs(logging.INFO)  # the PEs' log() messages on stderr, as dispel4py printed them
    inputs = run_input_from(args.iterations, args.data, args.file)
    graph = load_workflow(args.workflow, args.attr)
    shown = args.progress if args.progress is not None else (sys.stderr.isatty() and not args.as_json)
    plugins: list[Any] = []
    if shown:
        from rich.console import Console

        from d4py.cli.progress import ProgressDisplay

        plugins.append(ProgressDisplay(Console(stderr=True)))
    result = run_graph(
        graph,
        inputs,
        backend=args.backend,
        processes=args.processes,
        options=args.option,
        check_types=args.check_types,
        plugins=plugins,
    )
    if args.as_json:
        print(result_json(result))
    else:
        print_result(result, sys.stdout)


def _check(args: argparse.Namespace) -> None:
    from d4py.loader import load_workflow
    from d4py.plan import build_plan

    plan = build_plan(load_workflow(args.workflow, args.attr), processes=args.processes)
    fused = sum(1 for members in plan.partitions if len(members) > 1)
    counts = [
        _count(len(plan.nodes), "PE"),
        _count(len(plan.edges), "connection"),
        _count(plan.total_instances(), "instance"),
        f"{_count(len(plan.roots), 'root')} ({', '.join(plan.roots)})",
        _count(fused, "fused partition"),
    ]
    print(f"ok: {', '.join(counts)}; declared types agree")
    budget = "without -n" if args.processes is None else f"under -n {args.processes}"
    print(f"layout {budget}: PEs run in {_count(len(plan.layout), 'process')}")
    for number, slots in enumerate(plan.layout):
        hosted = ", ".join(f"{pe_id}[{index}]" for partition, index in slots for pe_id in plan.partitions[partition])
        print(f"  process {number}: {hosted}")


def _count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{number} {noun if number == 1 else plural}"


def _draw(args: argparse.Namespace) -> None:
    from d4py.drawing import FORMATS, render
    from d4py.loader import load_workflow

    output: Path | None = args.output
    fmt = output.suffix.lstrip(".").lower() if output else "dot"
    if fmt not in FORMATS:
        raise UsageError(f"-o {output}: cannot tell the format; end the file name in .dot, .svg or .png")
    drawing = render(load_workflow(args.workflow, args.attr), fmt)
    if output is None:
        sys.stdout.write(drawing.decode())
    else:
        output.write_bytes(drawing)
        print(f"wrote {output}", file=sys.stderr)


def _backends(args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from d4py.backend import describe_options
    from d4py.plugins import FIRST_PARTY_BACKENDS, backend_registry

    table = Table("backend", "status", "options: -o KEY=VALUE (default)")
    registry = backend_registry()
    for name, cls in sorted(registry.items()):
        problem = cls.unavailable_reason()
        status = f"[red]unavailable[/]: {escape(problem)}" if problem else "[green]available[/]"
        options = "\n".join(f"{key}={default} ({kind})" for key, kind, default in describe_options(cls))
        table.add_row(name, f"{status}\n[dim]{escape(cls.description)}[/]", escape(options) or "none")
    for name, package in FIRST_PARTY_BACKENDS.items():
        if name not in registry:
            table.add_row(name, f"[yellow]not installed[/]: pip install {escape(package)}", "")
    Console(soft_wrap=True).print(table)


def _plugins(args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.table import Table

    from d4py.plugins import get_plugin_manager, plugin_versions

    table = Table("plugin", "distribution")
    for name, dist in plugin_versions(get_plugin_manager()):
        table.add_row(name, dist)
    Console(soft_wrap=True).print(table)


def _run_plugins() -> PluginManager:
    """The plugins ``d4py run`` takes options from: those the run uses (built once), so it pays nothing more.

    Only run takes plugins' options: other commands load no plugin to parse their arguments.
    """
    from d4py.plugins import get_plugin_manager

    return get_plugin_manager()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``d4py`` script: core's commands, or one an installed package adds."""
    try:
        _main(argv)
    except BrokenPipeError:  # what reads the output has gone (d4py runs list | head): stop without a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def _main(argv: Sequence[str] | None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-") and argv[0] not in CORE_COMMANDS:
        entry = plugin_commands().get(argv[0])
        if entry is not None:
            sys.exit(run_plugin_command(entry, argv[1:]))
    if not argv:
        build_parser().print_help()
        sys.exit(2)
    verbose = False
    try:
        parser = build_parser(_run_plugins() if argv[0] == "run" else None)
        args = parser.parse_args(argv)
        verbose = bool(getattr(args, "verbose", False))
        args.handler(args)
    except D4pyError as error:
        print_error(error, sys.stderr, verbose)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
