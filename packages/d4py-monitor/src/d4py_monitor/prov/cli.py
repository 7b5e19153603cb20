"""``d4py prov``: explain a run's outputs by their root inputs, the impact of an input, search items, export.

Found through the ``d4py.commands`` entry point ``prov``. It reads the
provenance ``d4py run --provenance`` kept beside the run's record, in the
same store as ``d4py runs``. Bad input is one line: an unknown run or item,
or a run that kept no provenance, exits 2; a store that cannot be read, 1.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from d4py import D4pyError, UsageError
from d4py_monitor.cli import RUN_HELP, required_store, store_option
from d4py_monitor.prov.model import ItemRecord, RunLineage
from d4py_monitor.store import Store, find_run

__all__ = ["EXPORTS", "configure"]

#: ``--format`` of ``d4py prov export``: the module of d4py_monitor.prov that writes it.
EXPORTS = {"prov-json": "w3c", "prov-n": "w3c", "ro-crate": "rocrate", "openlineage": "openlineage"}


def configure(parser: argparse.ArgumentParser) -> None:
    """Fill in the parser of ``d4py prov``."""
    parser.description = "Query the provenance of runs recorded with d4py run --provenance (d4py-monitor)."
    common = store_option()
    printed = argparse.ArgumentParser(add_help=False, parents=[common])
    printed.add_argument("--json", action="store_true", dest="as_json", help="Print JSON (item ids as text).")
    commands = parser.add_subparsers(metavar="COMMAND")

    summary = "List each output of a run with the root inputs it derives from."
    explain = commands.add_parser("explain", help=summary, description=summary, parents=[printed])
    explain.add_argument("run", metavar="RUN", help=RUN_HELP)
    explain.set_defaults(handler=explain_run)

    summary = "List the outputs of a run that derive from one item or input."
    impact = commands.add_parser("impact", help=summary, description=summary, parents=[printed])
    impact.add_argument("run", metavar="RUN", help=RUN_HELP)
    impact.add_argument("item", metavar="ITEM", nargs="?", help="An item id (d4py prov explain shows them).")
    impact.add_argument("--input", metavar="VALUE", help="A root input, by its value as explain shows it.")
    impact.set_defaults(handler=impact_of)

    summary = "Find items whose metadata has KEY=VALUE, across runs."
    search = commands.add_parser("search", help=summary, description=summary, parents=[printed])
    search.add_argument("term", metavar="KEY=VALUE", help="A metadata key and its value (JSON for non-strings).")
    search.add_argument("--run", metavar="RUN", help="Search one run only: " + RUN_HELP)
    search.set_defaults(handler=search_items)

    summary = "Write a run's provenance as W3C PROV, a Workflow Run RO-Crate or OpenLineage events."
    export = commands.add_parser("export", help=summary, description=summary, parents=[common])
    export.add_argument("run", metavar="RUN", help=RUN_HELP)
    export.add_argument("--format", required=True, choices=list(EXPORTS), dest="fmt", help="What to write.")
    export.add_argument(
        "-o", "--output", required=True, type=Path, metavar="PATH", help="The file (the folder, for ro-crate)."
    )
    export.set_defaults(handler=export_run)


def explain_run(args: argparse.Namespace) -> int:
    store = required_store(args.store)
    try:
        lineage = _lineage(store, args.run, traced=True)
    finally:
        store.close()
    if args.as_json:
        _print_json(lineage.explain())
        return 0
    outputs = lineage.outputs()
    print(f"run {lineage.run_id}: {len(outputs)} output{'' if len(outputs) == 1 else 's'}, {_level(lineage)}")
    known: dict[int, frozenset[int]] = {}
    for output in outputs:
        print(f"{_item_line(output)}{_metadata_text(output)}")
        for root in lineage.roots_of(output.id, known):
            print(f"    from {_item_line(root)}")
    _print_failures(lineage)
    return 0


def impact_of(args: argparse.Namespace) -> int:
    if (args.item is None) == (args.input is None):
        raise UsageError("give an ITEM id or --input VALUE (one of them)")
    store = required_store(args.store)
    try:
        lineage = _lineage(store, args.run, traced=True)
    finally:
        store.close()
    starts = [_item_of(lineage, args.item)] if args.item is not None else _inputs_valued(lineage, args.input)
    found = {output.id: output for start in starts for output in lineage.impact(start.id)}
    outputs = [found[item_id] for item_id in sorted(found)]
    if args.as_json:
        _print_json([{"id": str(o.id), "pe": o.pe, "port": o.port, "item": o.value} for o in outputs])
        return 0
    named = ", ".join(_item_line(start) for start in starts)
    one = len(outputs) == 1
    print(f"{len(outputs)} output{'' if one else 's'} of run {lineage.run_id} derive{'s' if one else ''} from {named}")
    for output in outputs:
        print(f"  {_item_line(output)}")
    return 0


def search_items(args: argparse.Namespace) -> int:
    key, equals, value = args.term.partition("=")
    if not equals or not key:
        raise UsageError(f"search {args.term!r}: give KEY=VALUE, a metadata key and the value to match")
    store = required_store(args.store)
    try:
        run_id = _lineage(store, args.run, traced=False).run_id if args.run is not None else None
        found = store.search_items(key, value, run_id)
    finally:
        store.close()
    if args.as_json:
        documents = [
            {"run": run, "id": str(i.id), "pe": i.pe, "port": i.port, "item": i.value, "metadata": i.metadata}
            for run, i in found
        ]
        _print_json(documents)
    elif not found:
        where = f"run {run_id}" if run_id is not None else "any run"
        print(f"no item of {where} has metadata {key}={value}")
    else:
        for run, item in found:
            print(f"run {run}  {_item_line(item)}{_metadata_text(item)}")
    return 0


def export_run(args: argparse.Namespace) -> int:
    import importlib

    store = required_store(args.store)
    try:
        run_id = find_run(store, args.run)
        lineage = _lineage(store, run_id, traced=False)
        run = store.load(run_id)
    finally:
        store.close()
    module = f"d4py_monitor.prov.{EXPORTS[args.fmt]}"
    try:
        writer: Any = importlib.import_module(module)
    except ImportError as error:
        raise D4pyError(f"--format {args.fmt}: this d4py-monitor cannot write it ({error})") from None
    if args.output.exists():
        raise UsageError(f"-o {args.output}: it exists already; give a path that does not, or remove it first")
    if not args.output.parent.is_dir():
        raise UsageError(f"-o {args.output}: no folder {args.output.parent}; make it first")
    try:
        if args.fmt in ("prov-json", "prov-n"):
            writer.write_prov(run, lineage, args.output, args.fmt)
        elif args.fmt == "ro-crate":
            writer.write_ro_crate(run, lineage, args.output)
        else:
            writer.write_openlineage(run, lineage, args.output)
    except OSError as error:
        raise D4pyError(f"cannot write {args.output}: {error.strerror or error}") from None
    print(f"wrote {args.output}")
    return 0


def _lineage(store: Store, reference: str, traced: bool) -> RunLineage:
    """The provenance of the run ``reference`` names; with ``traced``, it must hold lineage, not only inputs."""
    run_id = find_run(store, reference)
    lineage = store.load_lineage(run_id)
    if lineage is None and store.load(run_id).status == "running":
        raise UsageError(f"run {run_id} is still running: its provenance is saved when it ends")
    if lineage is None:
        raise UsageError(
            f"run {run_id} kept no provenance; record a run's with d4py run --provenance full (or sampled, run)"
        )
    if traced and lineage.level == "run":
        raise UsageError(
            f"run {run_id} kept provenance at level run: its inputs and outputs, not what derives from what; "
            "record lineage with d4py run --provenance full or sampled"
        )
    return lineage


def _item_of(lineage: RunLineage, text: str) -> ItemRecord:
    digits = text.removeprefix("#")  # as explain shows ids
    item_id = int(digits) if digits.isdigit() else None
    if item_id is None or item_id not in lineage.items:
        raise UsageError(
            f"run {lineage.run_id} has no item {text!r}; d4py prov explain {lineage.run_id} shows item ids"
        )
    return lineage.items[item_id]


def _inputs_valued(lineage: RunLineage, value: str) -> list[ItemRecord]:
    """The root inputs whose value is ``value``: as explain shows it, as a string, or as a root's only input."""
    wanted = {value, repr(value)}
    known: dict[int, frozenset[int]] = {}
    roots = {root.id: root for output in lineage.outputs() for root in lineage.roots_of(output.id, known)}
    found = [root for _, root in sorted(roots.items()) if root.value in wanted or _only_input(root.value) in wanted]
    if not found:
        raise UsageError(
            f"no root input of run {lineage.run_id} has the value {value!r}; "
            f"d4py prov explain {lineage.run_id} shows them"
        )
    return found


def _only_input(preview: str) -> str | None:
    """The value of a run input given for one port (``{'input': 'a line'}`` -> ``'a line'``)."""
    matched = re.fullmatch(r"\{'[^']*': (.*)\}", preview)
    return matched.group(1) if matched else None


def _item_line(item: ItemRecord) -> str:
    where = f"{item.pe}[{item.instance}].{item.port}" if item.port else f"{item.pe} input"
    return f"#{item.id} {where} {item.value or '(value not kept)'}"


def _metadata_text(item: ItemRecord) -> str:
    if not item.metadata:
        return ""
    return "  {" + ", ".join(f"{key}={value!r}" for key, value in item.metadata.items()) + "}"


def _level(lineage: RunLineage) -> str:
    if lineage.level == "sampled":
        return f"sampled: {lineage.share:g} of lineage chains kept, whole; the others are not shown"
    return "full lineage"


def _print_failures(lineage: RunLineage) -> None:
    for failure in lineage.failures:
        inputs = ", ".join(f"#{i}" for i in failure.inputs)
        if inputs:
            called = f"on {failure.value} ({inputs})"
        else:  # a root's call without data (a producer's), or preprocess and postprocess, called with None
            called = "in preprocess or postprocess" if failure.value == "None" else f"on {failure.value}"
        print(f"failed: {failure.pe}[{failure.instance}] {called}: {failure.error or '?'}")


def _print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, default=str))
