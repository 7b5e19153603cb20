"""The options d4py-monitor adds to ``d4py run`` for provenance, and the :class:`Provenance` plugin they make."""

from __future__ import annotations

import argparse

from d4py import UsageError
from d4py_monitor.prov.plugin import DEFAULT_SHARE, LEVELS, Provenance, check_share

__all__ = ["add_run_arguments", "provenance_from"]


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--provenance``, ``--provenance-share`` and ``--provenance-select`` to ``d4py run``."""
    parser.add_argument(
        "--provenance",
        choices=LEVELS,
        default="off",
        help="Keep this run's lineage beside its record (d4py prov): run (inputs and outputs), "
        "sampled (a share of lineage chains, whole) or full (every item); default off.",
    )
    parser.add_argument(
        "--provenance-share",
        type=float,
        metavar="FRACTION",
        help=f"With --provenance sampled: the share of lineage chains kept, more than 0 and at most 1 "
        f"(default {DEFAULT_SHARE:g}).",
    )
    parser.add_argument(
        "--provenance-select",
        action="append",
        metavar="PE[:PORT]",
        help="Keep the value and metadata of these PEs' items only (repeatable); every item keeps its lineage.",
    )


def provenance_from(args: argparse.Namespace) -> Provenance | None:
    """The plugin the run's provenance options ask for, or None for ``--provenance off``."""
    if args.provenance == "off":
        if args.provenance_share is not None or args.provenance_select:
            raise UsageError("--provenance-share and --provenance-select need --provenance run, sampled or full")
        return None
    if args.no_monitor:
        raise UsageError(f"--provenance {args.provenance} keeps lineage with the run's record: drop --no-monitor")
    if args.monitor is not None:
        raise UsageError(
            "--provenance keeps lineage in a run store, not a collector: give --monitor-store, not --monitor"
        )
    if args.provenance_share is not None and args.provenance != "sampled":
        raise UsageError(f"--provenance-share is for --provenance sampled, not {args.provenance}")
    share = None if args.provenance_share is None else check_share(args.provenance_share, "--provenance-share")
    return Provenance(args.provenance, share, args.provenance_select)
