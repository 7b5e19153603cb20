"""``d4py monitor collect``: receive the records of runs started with ``--monitor`` and keep them in a store.

It prints the address it listens on as its first line, then a line for each
run that starts or ends there, and runs until SIGINT or SIGTERM (exit 0).
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from d4py_monitor.record import RunRecord
from d4py_monitor.store import STORE_VARIABLE

__all__ = ["DEFAULT_LISTEN", "collect", "configure_collect"]

DEFAULT_LISTEN = "tcp://127.0.0.1:5555"
_STOP = {signal.SIGINT, signal.SIGTERM}


def configure_collect(commands: Any) -> None:
    """Add ``collect`` to the subcommands of ``d4py monitor``."""
    summary = "Receive the records of runs started with --monitor, and keep them in a store."
    parser = commands.add_parser("collect", help=summary, description=summary)
    parser.add_argument(
        "--listen",
        metavar="URL",
        default=DEFAULT_LISTEN,
        help=f"Where runs send: tcp://HOST:PORT (port 0: any free one; tcp://*:PORT: every interface); "
        f"default {DEFAULT_LISTEN}.",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help=f"Keep the records in mongodb://HOST/DATABASE or sqlite:///PATH (default ${STORE_VARIABLE}, "
        "else SQLite in $D4PY_HOME).",
    )
    parser.set_defaults(handler=collect)


def collect(args: argparse.Namespace) -> int:
    from d4py_monitor.collector import Collector
    from d4py_monitor.store import open_store
    from d4py_monitor.wire import check_address, make_key, monitor_key

    address = check_address(args.listen, "--listen", listen=True)
    made = make_key()
    if made is not None:
        print(
            f"d4py-monitor: made a new monitor key in {made}; runs that send here need it: the same file in "
            "their $D4PY_HOME, or its text in D4PY_MONITOR_KEY",
            file=sys.stderr,
        )
    key = monitor_key()
    store = open_store(create=True, url=args.store)
    # Blocked before the collector's threads start, so that they inherit the mask and sigwait gets the signal.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP)
    collector = Collector(address, store, key, on_saved=_said)
    try:
        print(collector.start(), flush=True)
        signal.sigwait(_STOP)
    finally:
        collector.stop()
        store.close()
    return 0


def _said(run: RunRecord) -> None:
    print(f"run {run.id} {run.status}: {run.workflow['name']} on {run.backend}, from {run.host}", flush=True)
