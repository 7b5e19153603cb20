"""``d4py cwl ...``: export a workflow to CWL, and the helper the exported tool runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from d4py import UsageError
from d4py.loader import load_workflow

__all__ = ["configure"]

MODES = ("tool", "staged")


def configure(parser: argparse.ArgumentParser) -> None:
    """Fill in ``d4py cwl``'s parser (the ``d4py.commands`` entry point)."""
    parser.description = "Run d4py workflows inside CWL engines."
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    export = commands.add_parser("export", help="write a workflow as a CWL document")
    export.add_argument("workflow", metavar="WORKFLOW", help="dotted module name or path to a .py file")
    export.add_argument("-a", "--attr", metavar="NAME", help="the graph (or a function returning it) in the module")
    export.add_argument("-o", "--output", metavar="FILE", type=Path, required=True, help="the .cwl file to write")
    export.add_argument(
        "--mode", choices=MODES, default="tool", help="tool: one CommandLineTool runs the whole stream (default)"
    )
    export.set_defaults(handler=export_workflow)

    outputs = commands.add_parser("outputs", help="split a 'd4py run --json' result into one file per output port")
    outputs.add_argument("result", metavar="RESULT", type=Path, help="the JSON document d4py run --json printed")
    outputs.add_argument("ports", metavar="PE.PORT", nargs="*", help="the ports to write, as PEid.port")
    outputs.set_defaults(handler=split_outputs)


def export_workflow(args: argparse.Namespace) -> None:
    from d4py_registry.cwl import tool_document

    if args.mode == "staged":
        raise UsageError("--mode staged is not available yet; use --mode tool (see docs/registry.md)")
    graph = load_workflow(args.workflow, args.attr)
    document = tool_document(graph, args.workflow, args.attr)
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.output}: {len(document['outputs']) - 1} output port(s) as files", file=sys.stderr)


def split_outputs(args: argparse.Namespace) -> None:
    from d4py_registry.cwl import write_outputs

    try:
        write_outputs(args.result, args.ports, Path.cwd())
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(f"{args.result}: not a 'd4py run --json' result ({type(error).__name__}: {error})") from None
