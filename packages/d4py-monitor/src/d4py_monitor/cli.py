"""``d4py runs``: list the recorded runs, show one, compare two.

Found through the ``d4py.commands`` entry point ``runs``, so ``d4py run``
never imports it. Bad input is one line: an unknown or ambiguous run exits 2,
a store that cannot be read exits 1.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from d4py_monitor.show import diff_lines, run_lines, summary_lines
from d4py_monitor.store import STORE_VARIABLE, NoRunsYet, Store, UnknownRun, default_location, find_run, open_store

__all__ = ["RUN_HELP", "configure", "readable_store", "required_store", "store_option"]

RUN_HELP = "A run id, a prefix of exactly one, or 'last'."


def store_option() -> argparse.ArgumentParser:
    """A parent parser with ``--store URL``, for the commands that read a store (``d4py runs``, ``d4py prov``)."""
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument(
        "--store",
        metavar="URL",
        help=f"The store to read: mongodb://HOST/DATABASE or sqlite:///PATH (default ${STORE_VARIABLE}, "
        "else SQLite in $D4PY_HOME).",
    )
    return store


def configure(parser: argparse.ArgumentParser) -> None:
    """Fill in the parser of ``d4py runs``."""
    parser.description = f"Look at the runs d4py-monitor recorded (in {default_location()}, under $D4PY_HOME)."
    store = store_option()
    commands = parser.add_subparsers(metavar="COMMAND")
    summary = "List the runs, newest first."
    listing = commands.add_parser("list", help=summary, description=summary, parents=[store])
    listing.add_argument("--json", action="store_true", dest="as_json", help="Print them as JSON.")
    listing.set_defaults(handler=list_runs)
    show = commands.add_parser(
        "show", help="Show one run, instance by instance.", description="Show one run.", parents=[store]
    )
    show.add_argument("run", metavar="RUN", help=RUN_HELP)
    show.add_argument("--json", action="store_true", dest="as_json", help="Print the whole record as JSON.")
    show.set_defaults(handler=show_run)
    diff = commands.add_parser(
        "diff",
        help="Compare two runs, PE by PE.",
        description="Items and busy time of two runs, per PE, side by side.",
        parents=[store],
    )
    diff.add_argument("first", metavar="A", help=RUN_HELP)
    diff.add_argument("second", metavar="B", help=RUN_HELP)
    diff.set_defaults(handler=diff_runs)


def list_runs(args: argparse.Namespace) -> int:
    try:
        store = open_store(create=False, url=args.store)
    except NoRunsYet as error:
        summaries, nothing = [], str(error)
    else:
        summaries, nothing = store.summaries(), f"no runs recorded yet in {store.location}"
        store.close()
    if args.as_json:
        documents = [{**vars(summary), "duration_s": summary.duration_s} for summary in summaries]
        _print_json(documents)
    elif summaries:
        print("\n".join(summary_lines(summaries)))
    else:
        print(nothing)
    return 0


def show_run(args: argparse.Namespace) -> int:
    store = required_store(args.store)
    run = store.load(find_run(store, args.run))
    if args.as_json:
        _print_json(run.to_json())
    else:
        print("\n".join(run_lines(run)))
    return 0


def diff_runs(args: argparse.Namespace) -> int:
    store = required_store(args.store)
    first, second = (store.load(find_run(store, reference)) for reference in (args.first, args.second))
    print("\n".join(diff_lines(first, second)))
    return 0


def readable_store(url: str | None = None) -> Store | None:
    """The store at ``url`` (default: as ``--store`` defaults) for reading, or None when no run was ever recorded."""
    try:
        return open_store(create=False, url=url)
    except NoRunsYet:
        return None


def required_store(url: str | None = None) -> Store:
    """The store to read; an UnknownRun (exit 2) if no run was ever recorded in it."""
    try:
        return open_store(create=False, url=url)
    except NoRunsYet as error:
        raise UnknownRun(str(error)) from None


def _print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, default=str))
