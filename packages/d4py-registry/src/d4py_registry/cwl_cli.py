"""``d4py cwl ...``: export a workflow to CWL, and the commands the exported documents run."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from d4py import UsageError
from d4py.cli.report import result_json
from d4py.inputs import run_input_from
from d4py.loader import load_workflow
from d4py.plan import build_plan

__all__ = ["configure"]

MODES = ("tool", "staged")


def configure(parser: argparse.ArgumentParser) -> None:
    """Fill in ``d4py cwl``'s parser (the ``d4py.commands`` entry point)."""
    parser.description = "Run d4py workflows inside CWL engines."
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    workflow = argparse.ArgumentParser(add_help=False)
    workflow.add_argument("workflow", metavar="WORKFLOW", help="dotted module name or path to a .py file")
    workflow.add_argument("-a", "--attr", metavar="NAME", help="the graph (or a function returning it) in the module")

    export = commands.add_parser("export", parents=[workflow], help="write a workflow as a CWL document")
    export.add_argument("-o", "--output", metavar="FILE", type=Path, required=True, help="the .cwl file to write")
    export.add_argument(
        "--mode",
        choices=MODES,
        default="tool",
        help="tool: one CommandLineTool runs the whole stream (default); staged: one step per partition",
    )
    export.set_defaults(handler=export_workflow)

    outputs = commands.add_parser("outputs", help="split a 'd4py run --json' result into one file per output port")
    outputs.add_argument("result", metavar="RESULT", type=Path, help="the JSON document d4py run --json printed")
    outputs.add_argument("ports", metavar="PE.PORT", nargs="*", help="the ports to write, as PEid.port")
    outputs.set_defaults(handler=split_outputs)

    stage = commands.add_parser("stage", parents=[workflow], help="run one partition instance (a staged step)")
    stage.add_argument("--partition", type=int, required=True, metavar="P")
    stage.add_argument("--shard", type=int, required=True, metavar="K", help="the instance of the partition")
    stage.add_argument("-i", "--iterations", type=int, metavar="N", help="as d4py run -i")
    stage.add_argument("-d", "--data", metavar="JSON", help="as d4py run -d")
    stage.add_argument("-f", "--file", type=Path, metavar="FILE", help="as d4py run -f")
    stage.add_argument("--from", dest="sources", action="append", type=Path, default=[], metavar="FILE")
    stage.set_defaults(handler=run_stage)

    collect = commands.add_parser("collect", parents=[workflow], help="gather a staged run's outputs (the last step)")
    collect.add_argument("--from", dest="sources", action="append", type=Path, default=[], metavar="FILE")
    collect.set_defaults(handler=collect_outputs)


def export_workflow(args: argparse.Namespace) -> None:
    graph = load_workflow(args.workflow, args.attr)
    if args.mode == "staged":
        from d4py_registry.cwl_staged import staged_document

        document = staged_document(graph, build_plan(graph), args.workflow, args.attr)
    else:
        from d4py_registry.cwl import tool_document

        document = tool_document(graph, args.workflow, args.attr)
    try:
        args.output.write_text(json.dumps(document, indent=2) + "\n")
    except OSError as error:
        raise UsageError(f"-o {args.output}: cannot write it ({error.strerror})") from None
    print(f"wrote {args.output}: {len(document['outputs']) - 1} output port(s) as files", file=sys.stderr)


def split_outputs(args: argparse.Namespace) -> None:
    from d4py_registry.cwl import write_outputs

    try:
        write_outputs(args.result, args.ports, Path.cwd())
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(f"{args.result}: not a 'd4py run --json' result ({type(error).__name__}: {error})") from None


def run_stage(args: argparse.Namespace) -> None:
    from d4py_registry.staging import run_stage as host_stage

    run_input = run_input_from(args.iterations, args.data, args.file)
    plan = build_plan(load_workflow(args.workflow, args.attr), run_input)
    host_stage(plan, args.partition, args.shard, args.sources, Path.cwd())


def collect_outputs(args: argparse.Namespace) -> None:
    from d4py_registry.cwl import RESULT_FILE, open_outputs, write_outputs
    from d4py_registry.staging import collect

    started = time.perf_counter()
    graph = load_workflow(args.workflow, args.attr)
    result = collect(build_plan(graph), args.sources, started)
    (Path.cwd() / RESULT_FILE).write_text(result_json(result) + "\n")
    write_outputs(Path.cwd() / RESULT_FILE, open_outputs(graph), Path.cwd())
