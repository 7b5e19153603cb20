"""``d4py redis worker FILE``: join a running redis job from this machine as a pool worker."""

from __future__ import annotations

import argparse
import sys

import redis

from d4py import RunFailed

__all__ = ["configure"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Fill in ``d4py redis``'s parser."""
    parser.description = "Work for d4py runs coordinated through Redis (start them with: d4py run -b redis)."
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    worker = commands.add_parser(
        "worker",
        help="join a running job as a pool worker, until its pools are done",
        description="Join the run whose join file (written by d4py run -b redis -o url=... -o join_file=FILE) "
        "is FILE, as one more worker sharing its stateless PEs. The workflow's files must be at the same paths "
        "here as on the machine that started the run.",
    )
    worker.add_argument("join_file", metavar="FILE", help="the run's join file")
    worker.set_defaults(handler=worker_command)


def worker_command(args: argparse.Namespace) -> int:
    """Join the run, work until its pools are done, and leave."""
    from d4py_redis.driver import safe_url
    from d4py_redis.joining import read_join_file
    from d4py_redis.store import RunStore
    from d4py_redis.worker import connect, serve

    url, run, key, ca_file = read_join_file(args.join_file)
    store = RunStore(connect(url, ca_file), run, key)
    try:
        serve(store, pinned=False, number=None)
    except KeyboardInterrupt:
        print("d4py redis worker: interrupted; left the run, its items handed back", file=sys.stderr)
        return 0
    except LookupError:
        raise RunFailed(f"run {run!r} is over: nothing to join at {safe_url(url)}") from None
    except redis.RedisError as error:
        raise RunFailed(f"the Redis server at {safe_url(url)} failed: {error}") from None
    return 0
