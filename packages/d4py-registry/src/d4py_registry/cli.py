"""``d4py registry ...``: add, search, show, versions, remove, get and serve."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from d4py import UsageError
from d4py_registry.entry import Entry
from d4py_registry.listing import describe_entry, one_line
from d4py_registry.loading import fetch_source
from d4py_registry.remote import TOKEN_VARIABLE
from d4py_registry.store import REGISTRY_VARIABLE, Store, open_store

__all__ = ["configure"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Fill in ``d4py registry``'s parser (the ``d4py.commands`` entry point)."""
    parser.description = "Share PEs and workflows as source: add, find by text or type, fetch and serve them."
    remote = argparse.ArgumentParser(add_help=False)
    remote.add_argument(
        "--registry",
        metavar="URL",
        help=f"a registry served by 'd4py registry serve' (default: ${REGISTRY_VARIABLE}, "
        "else the local store under $D4PY_HOME)",
    )
    writing = argparse.ArgumentParser(add_help=False, parents=[remote])
    writing.add_argument(
        "--token-file",
        metavar="FILE",
        type=Path,
        help=f"the remote registry's write token (default: ${TOKEN_VARIABLE})",
    )
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    add = commands.add_parser("add", parents=[writing], help="register the PEs and workflows a file or module defines")
    add.add_argument("target", metavar="FILE|MODULE", help="a .py file or a dotted module (it is imported)")
    add.add_argument("--namespace", metavar="NS", help="namespace of the names (default: the module's name)")
    add.add_argument("--version", metavar="V", help="version (default: the module's __version__, else 0.1.0)")
    add.add_argument("--author", metavar="NAME", help="author (default: the module's __author__)")
    add.add_argument("--licence", "--license", metavar="SPDX", help="licence (default: __license__ or an SPDX line)")
    add.set_defaults(handler=add_target)

    search = commands.add_parser("search", parents=[remote, as_json], help="find entries by text and port types")
    search.add_argument("text", metavar="TEXT", nargs="*", help="words in names, docs, ports or types (all must match)")
    search.add_argument("--accepts", metavar="TYPE", help="with an input port that takes items of TYPE")
    search.add_argument("--produces", metavar="TYPE", help="with an output port whose items are TYPE")
    search.set_defaults(handler=search_entries)

    show = commands.add_parser("show", parents=[remote, as_json], help="everything recorded about one entry")
    show.add_argument("ref", metavar="NAME[@VERSION]")
    show.set_defaults(handler=show_entry)

    versions = commands.add_parser("versions", parents=[remote, as_json], help="the versions of a name")
    versions.add_argument("ref", metavar="NAME")
    versions.set_defaults(handler=list_versions)

    remove = commands.add_parser("remove", parents=[writing], help="remove one version, or every version of a name")
    remove.add_argument("ref", metavar="NAME[@VERSION]")
    remove.set_defaults(handler=remove_entries)

    get = commands.add_parser("get", parents=[remote], help="write an entry's module source, exactly as added")
    get.add_argument("ref", metavar="NAME[@VERSION]")
    get.add_argument("-o", "--output", metavar="FILE", type=Path, help="file to write (default: stdout)")
    get.set_defaults(handler=get_source)

    serve = commands.add_parser("serve", help="offer the local store over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8040, help="port (default: 8040; 0 picks a free one)")
    serve.add_argument("--token-file", metavar="FILE", type=Path, help="file holding the token writes need")
    serve.add_argument("--db", metavar="FILE", type=Path, help="SQLite file to serve (default: under $D4PY_HOME)")
    serve.set_defaults(handler=serve_store)


def _store(args: argparse.Namespace) -> Store:
    token_file: Path | None = getattr(args, "token_file", None)
    token = _read_token(token_file) if token_file else os.environ.get(TOKEN_VARIABLE)
    return open_store(args.registry, token)


def _read_token(path: Path) -> str:
    try:
        token = path.read_text().strip()
    except OSError as error:
        raise UsageError(f"--token-file {path}: cannot read it ({error.strerror})") from None
    if not token:
        raise UsageError(f"--token-file {path} is empty")
    return token


def add_target(args: argparse.Namespace) -> None:
    from d4py_registry.describe import describe  # imports the user's code: only here

    store = _store(args)  # before importing anything, so a bad --registry fails first
    found = describe(args.target, args.namespace, args.version, args.author, args.licence)
    for entry in store.add(found.entries, found.source):
        print(f"added {entry.ref} ({entry.kind})")
    print(f"source sha256 {found.entries[0].sha256}")


def search_entries(args: argparse.Namespace) -> None:
    found = _store(args).search(" ".join(args.text), args.accepts, args.produces)
    if args.json:
        print(json.dumps([e.to_json() for e in found], indent=2))
        return
    if not found:
        print("nothing found", file=sys.stderr)
    for entry in found:
        print(one_line(entry))


def show_entry(args: argparse.Namespace) -> None:
    entry = _store(args).get(args.ref)
    print(json.dumps(entry.to_json(), indent=2) if args.json else describe_entry(entry))


def list_versions(args: argparse.Namespace) -> None:
    found = _store(args).versions(args.ref)
    if args.json:
        print(json.dumps([e.to_json() for e in found], indent=2))
        return
    for entry in found:
        print(f"{entry.version}\t{entry.added}\tsha256 {entry.sha256[:16]}")


def remove_entries(args: argparse.Namespace) -> None:
    for entry in _store(args).remove(args.ref):
        print(f"removed {entry.ref}")


def get_source(args: argparse.Namespace) -> None:
    store = _store(args)
    entry: Entry = store.get(args.ref)
    source = fetch_source(store, entry)  # refused if it no longer matches its sha256
    if args.output is None:
        sys.stdout.buffer.write(source)
        return
    try:
        args.output.write_bytes(source)
    except OSError as error:
        raise UsageError(f"-o {args.output}: cannot write it ({error.strerror})") from None
    print(f"wrote {args.output}: {entry.ref}, sha256 {entry.sha256}", file=sys.stderr)


def serve_store(args: argparse.Namespace) -> None:
    from d4py_registry.server import RegistryServer
    from d4py_registry.sqlite import default_path

    token = _read_token(args.token_file) if args.token_file else None
    try:
        server = RegistryServer((args.host, args.port), args.db or default_path(), token)
    except OSError as error:
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {error.strerror}") from None
    access = "writes need the token" if token else "read-only: no --token-file"
    print(f"serving the registry at {server.url} ({access}); Ctrl-C stops it", flush=True)
    with server:
        server.serve_forever()
