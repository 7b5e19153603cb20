"""``d4py monitor serve`` (the dashboard, and with ``--collect`` the collector too) and ``d4py monitor report``.

Bad input is one line: an unknown run, a port in use or a file that cannot
be written exit 2.
"""

from __future__ import annotations

import argparse
import errno
import sys
from contextlib import ExitStack, suppress
from functools import partial
from pathlib import Path
from typing import Any

from d4py import UsageError
from d4py_monitor.cli import RUN_HELP, readable_store, required_store
from d4py_monitor.dashboard.pages import run_page
from d4py_monitor.redact import redact_url
from d4py_monitor.store import STORE_VARIABLE, default_location, find_run, open_store

__all__ = ["configure_dashboard"]

DEFAULT_PORT = 8765


def configure_dashboard(commands: Any) -> None:
    """Add ``serve`` and ``report`` to the subcommands of ``d4py monitor``."""
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument(
        "--store",
        metavar="URL",
        help=f"The runs: mongodb://HOST/DATABASE or sqlite:///PATH (default ${STORE_VARIABLE}, "
        f"else {default_location()}).",
    )
    summary = "Serve the dashboard: the runs, each run's graph, layout, timeline and matrix, live."
    serve = commands.add_parser("serve", help=summary, description=summary, parents=[store])
    serve.add_argument(
        "--host",
        type=_host,
        default="127.0.0.1",
        help="The address to listen on (default: %(default)s; 0.0.0.0 for every interface: it has no login).",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help="The port to listen on; 0 picks a free one (default: %(default)s).",
    )
    serve.add_argument(
        "--collect",
        metavar="URL",
        help="Also collect the records of runs started with --monitor, at tcp://HOST:PORT, into the same store "
        "(as d4py monitor collect does).",
    )
    serve.set_defaults(handler=serve_dashboard)
    summary = "Write one run's page as a single HTML file that opens offline."
    report = commands.add_parser("report", help=summary, description=summary, parents=[store])
    report.add_argument("run", metavar="RUN", help=RUN_HELP)
    report.add_argument(
        "-o", "--output", type=Path, help="The file to write (default: d4py-run-ID.html in this folder)."
    )
    report.set_defaults(handler=write_report)


def _host(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("give an address (127.0.0.1, or 0.0.0.0 for every interface), not nothing")
    return text


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give 0 to 65535 (0 picks a free one)")
    return port


def serve_dashboard(args: argparse.Namespace) -> int:
    from d4py_monitor.dashboard.server import DashboardServer

    location = redact_url(args.store) if args.store else str(default_location())
    try:
        server = DashboardServer(args.host, args.port, partial(readable_store, args.store), location)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            reason = "the port is in use; choose another --port (0 picks a free one)"
        else:
            reason = f"{error.strerror or error}; check --host and --port"
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {reason}") from error
    with ExitStack() as running:
        running.callback(server.server_close)
        if args.collect:
            print(f"d4py monitor: collecting at {_collect(args, running)}", file=sys.stderr, flush=True)
        # The first line says where: a script that started the server (port 0) reads it to find the port.
        print(f"d4py monitor: serving {server.url} (runs in {location}); Ctrl-C stops", flush=True)
        with suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


def _collect(args: argparse.Namespace, running: ExitStack) -> str:
    """Start a collector into the dashboard's store, stopped with the server; returns where it listens."""
    from d4py_monitor.collector import Collector
    from d4py_monitor.wire import check_address, make_key, monitor_key

    address = check_address(args.collect, "--collect", listen=True)
    made = make_key()
    if made is not None:
        print(f"d4py-monitor: made a new monitor key in {made}; runs that send here need it", file=sys.stderr)
    store = open_store(create=True, url=args.store)
    running.callback(store.close)
    collector = Collector(address, store, monitor_key())
    listening = collector.start()
    running.callback(collector.stop)
    return listening


def write_report(args: argparse.Namespace) -> int:
    store = required_store(args.store)
    try:
        run = store.load(find_run(store, args.run))
    finally:
        store.close()
    output: Path = args.output or Path(f"d4py-run-{run.id}.html")
    try:
        output.write_text(run_page(run, inline=True), encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write the report to {output}: {error.strerror or error}") from error
    print(f"wrote run {run.id} ({run.workflow['name']} on {run.backend}, {run.status}) to {output}")
    return 0
