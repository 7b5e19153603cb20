"""The ``d4py`` commands: run, check, graph draw, backends, plugins."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperArgument, TyperCommand

from d4py.__about__ import __version__
from d4py._exceptions import D4pyError, InputError, UsageError
from d4py.backend import describe_options
from d4py.cli.commands import plugin_commands, run_plugin_command
from d4py.cli.progress import ProgressDisplay
from d4py.cli.report import print_error, print_result, result_json
from d4py.drawing import FORMATS, render
from d4py.inputs import load_input_file, parse_input_json
from d4py.loader import load_workflow
from d4py.pe import show_pe_logs
from d4py.plan import build_plan
from d4py.plugins import FIRST_PARTY_BACKENDS, backend_registry, get_plugin_manager, plugin_versions
from d4py.runner import run as run_graph


class _Command(TyperCommand):
    """Help as command lines write it: WORKFLOW, not ``{workflow}``, and no type tags on arguments."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [piece.strip("{}") for piece in super().collect_usage_pieces(ctx)]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        params = self.get_params(ctx)
        arguments = [(p.metavar or str(p.name).upper(), p.help or "") for p in params if isinstance(p, TyperArgument)]
        options = [r for p in params if not isinstance(p, TyperArgument) and (r := p.get_help_record(ctx))]
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


app = typer.Typer(
    name="d4py",
    help="Run stream-based scientific workflows on any backend.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text as written: JSON brackets are not markup
)
graph_app = typer.Typer(help="Look at a workflow graph.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(graph_app, name="graph")

out = Console(soft_wrap=True)
err = Console(stderr=True)

Workflow = Annotated[
    str, typer.Argument(metavar="WORKFLOW", help="Dotted module name or path to a .py file holding the graph.")
]
Attribute = Annotated[
    str | None,
    typer.Option("-a", "--attr", metavar="NAME", help="The graph (or a function returning it) in the module."),
]


@contextmanager
def reporting(verbose: bool = False) -> Iterator[None]:
    """Turn d4py errors into one clear message and exit code (2 usage, 1 failed run)."""
    try:
        yield
    except D4pyError as error:
        print_error(error, err, verbose)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        err.print("[bold red]interrupted[/]")
        raise typer.Exit(130) from None


def _version(shown: bool) -> None:
    if shown:
        print(f"d4py {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print d4py's version and exit.")
    ] = False,
) -> None:
    """Run stream-based scientific workflows on any backend."""


@app.command(cls=_Command)
def run(
    workflow: Workflow,
    backend: Annotated[
        str, typer.Option("-b", "--backend", metavar="NAME", help="Backend that runs the graph (see d4py backends).")
    ] = "simple",
    attr: Attribute = None,
    iterations: Annotated[
        int | None, typer.Option("-i", "--iterations", metavar="N", help="Call each root PE N times.", min=0)
    ] = None,
    data: Annotated[
        str | None, typer.Option("-d", "--data", metavar="JSON", help='Input as JSON: {"PEName": N or [inputs, ...]}.')
    ] = None,
    file: Annotated[
        Path | None, typer.Option("-f", "--file", metavar="FILE", help="Input as a JSON file (like -d).")
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            "-n", "--processes", metavar="N", help="At most N processes run PEs; instances share them.", min=1
        ),
    ] = None,
    option: Annotated[
        list[str] | None, typer.Option("-o", "--option", metavar="KEY=VALUE", help="Backend option (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    check_types: Annotated[
        bool, typer.Option("--check-types", help="Check every item against its port's declared type.")
    ] = False,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Live progress line (default: on a terminal).")
    ] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Show full tracebacks of load errors.")] = False,
) -> None:
    """Run WORKFLOW and print what its unconnected outputs wrote."""
    show_pe_logs(logging.INFO)  # the PEs' log() messages on stderr, as dispel4py printed them
    with reporting(verbose):
        inputs = _run_input(iterations, data, file)
        graph = load_workflow(workflow, attr)
        shown = progress if progress is not None else (err.is_terminal and not as_json)
        result = run_graph(
            graph,
            inputs,
            backend=backend,
            processes=processes,
            options=option or [],
            check_types=check_types,
            plugins=[ProgressDisplay(err)] if shown else [],
        )
        if as_json:
            print(result_json(result))
        else:
            print_result(result, out)


def _run_input(iterations: int | None, data: str | None, file: Path | None) -> Any:
    given = [name for name, value in (("-i", iterations), ("-d", data), ("-f", file)) if value is not None]
    if len(given) > 1:
        raise InputError(f"give at most one of -i, -d and -f (got {' and '.join(given)})")
    if data is not None:
        return parse_input_json(data)
    if file is not None:
        return load_input_file(file)
    return iterations


@app.command(cls=_Command)
def check(
    workflow: Workflow,
    attr: Attribute = None,
    processes: Annotated[
        int | None,
        typer.Option(
            "-n",
            "--processes",
            metavar="N",
            help="Plan for at most N processes and print which instances share each.",
            min=1,
        ),
    ] = None,
) -> None:
    """Check WORKFLOW without running it."""
    with reporting():
        plan = build_plan(load_workflow(workflow, attr), processes=processes)
        fused = sum(1 for members in plan.partitions if len(members) > 1)
        counts = [
            _count(len(plan.nodes), "PE"),
            _count(len(plan.edges), "connection"),
            _count(plan.total_instances(), "instance"),
            f"{_count(len(plan.roots), 'root')} ({', '.join(plan.roots)})",
            _count(fused, "fused partition"),
        ]
        out.print(f"ok: {', '.join(counts)}; declared types agree", highlight=False)
        if processes is not None:
            out.print(f"layout under -n {processes}: PEs run in {_count(len(plan.layout), 'process')}", highlight=False)
            for number, slots in enumerate(plan.layout):
                hosted = ", ".join(
                    f"{pe_id}[{index}]" for partition, index in slots for pe_id in plan.partitions[partition]
                )
                out.print(f"  process {number}: {hosted}", highlight=False)


def _count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{number} {noun if number == 1 else plural}"


@graph_app.command("draw", cls=_Command)
def draw(
    workflow: Workflow,
    attr: Attribute = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", metavar="FILE", help="File to write: .dot, .svg or .png (default: DOT on stdout)."
        ),
    ] = None,
) -> None:
    """Draw WORKFLOW as Graphviz DOT, SVG or PNG."""
    with reporting():
        fmt = output.suffix.lstrip(".").lower() if output else "dot"
        if fmt not in FORMATS:
            raise UsageError(f"-o {output}: cannot tell the format; end the file name in .dot, .svg or .png")
        drawing = render(load_workflow(workflow, attr), fmt)
        if output is None:
            sys.stdout.write(drawing.decode())
        else:
            output.write_bytes(drawing)
            err.print(f"wrote {output}", highlight=False)


@app.command()
def backends() -> None:
    """List backends, whether they can run here, and their options."""
    with reporting():
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
        out.print(table)


@app.command()
def plugins() -> None:
    """List plugins and the distributions that provide them."""
    with reporting():
        table = Table("plugin", "distribution")
        for name, dist in plugin_versions(get_plugin_manager()):
            table.add_row(name, dist)
        out.print(table)


CORE_COMMANDS = ("run", "check", "graph", "backends", "plugins")


def main() -> None:
    """Entry point of the ``d4py`` script: core's commands, or one an installed package adds."""
    argv = sys.argv[1:]
    if argv and not argv[0].startswith("-") and argv[0] not in CORE_COMMANDS:
        entry = plugin_commands().get(argv[0])
        if entry is not None:
            sys.exit(run_plugin_command(entry, argv[1:]))
    if not argv or "--help" in argv[:1]:
        added = sorted(plugin_commands())
        if added:
            app.info.epilog = "Commands from installed packages: " + ", ".join(added)
    app()
