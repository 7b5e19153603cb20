"""d4py-redis: run d4py workflows on a pool of workers coordinated through Redis."""

from d4py_redis.__about__ import __version__
from d4py_redis.backend import RedisBackend, RedisOptions

__all__ = ["RedisBackend", "RedisOptions", "__version__"]
