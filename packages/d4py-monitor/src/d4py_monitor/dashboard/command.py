"""``d4py monitor``: ``serve`` the dashboard, or write one run's ``report`` as a self-contained HTML file.

Found through the ``d4py.commands`` entry point ``monitor``. Bad input is one
line: an unknown run, a port in use or a file that cannot be written exit 2.
"""

from __future__ import annotations

import argparse
import errno
from pathlib import Path

from d4py import UsageError
from d4py_monitor.cli import RUN_HELP, readable_store, required_store
from d4py_monitor.dashboard.pages import run_page
from d4py_monitor.store import default_location, find_run

__all__ = ["configure"]

DEFAULT_PORT = 8765


def configure(parser: argparse.ArgumentParser) -> None:
    """Fill in the parser of ``d4py monitor``."""
    parser.description = f"The dashboard of the runs d4py-monitor recorded (in {default_location()})."
    commands = parser.add_subparsers(metavar="COMMAND")
    summary = "Serve the dashboard: the runs, each run's graph, layout, timeline and matrix, live."
    serve = commands.add_parser("serve", help=summary, description=summary)
    serve.add_argument("--host", default="127.0.0.1", help="The address to listen on (default: %(default)s).")
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="The port to listen on; 0 picks a free one (default: %(default)s).",
    )
    serve.set_defaults(handler=serve_dashboard)
    summary = "Write one run's page as a single HTML file that opens offline."
    report = commands.add_parser("report", help=summary, description=summary)
    report.add_argument("run", metavar="RUN", help=RUN_HELP)
    report.add_argument(
        "-o", "--output", type=Path, help="The file to write (default: d4py-run-ID.html in this folder)."
    )
    report.set_defaults(handler=write_report)


def serve_dashboard(args: argparse.Namespace) -> int:
    from d4py_monitor.dashboard.server import DashboardServer

    try:
        server = DashboardServer(args.host, args.port, readable_store, str(default_location()))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            reason = "the port is in use; choose another --port (0 picks a free one)"
        else:
            reason = f"{error.strerror or error}; check --host and --port"
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {reason}") from error
    # The first line says where: a script that started the server (port 0) reads it to find the port.
    print(f"d4py monitor: serving {server.url} (runs in {default_location()}); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def write_report(args: argparse.Namespace) -> int:
    store = required_store()
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
