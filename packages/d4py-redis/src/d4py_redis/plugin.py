"""Registers the ``redis`` backend with d4py."""

from __future__ import annotations

from d4py import Backend, hookimpl


@hookimpl
def d4py_backends() -> list[type[Backend]]:
    from d4py_redis.backend import RedisBackend

    return [RedisBackend]
