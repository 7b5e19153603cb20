"""A run's keys in Redis, and the scripts that change several of them at once.

Every key of a run starts with ``d4py:RUN:``. Streams: ``drv`` (to the
driver), ``in:N`` (the inbox of pinned worker N), ``pool:P`` (the items of
pooled partition P, read by the consumer group ``d4py``) and ``ctl:K`` (to
pool worker K, same group). A hash ``counts`` holds, per pool, the entries
added to its stream and the entries done; ``job`` the signed job.

The Lua scripts run atomically on the server: :meth:`RunStore.commit` checks
that the worker still holds the entry it processed (its fence: an entry
reclaimed by another worker cannot be committed late), then appends the
outputs, counts them, and acknowledges and deletes the entry, all or nothing.
Scripts name keys they build themselves, so a Redis Cluster is not supported.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Iterable
from typing import Any, cast

import redis

from d4py.hosting import Batch, ReceivedBuffers, SentBuffers, decode, encode
from d4py_redis.sealing import open_blob, seal

__all__ = ["GROUP", "Entries", "Output", "RunStore"]

GROUP = "d4py"
_CONSUMER = "w"  # a pool worker's name in the consumer groups: this, then its ordinal
Output = tuple[bytes, bytes, bytes, bytes]  # stream, counter ('' for none), blob, signature
Entries = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]  # per stream, its (entry id, fields)

# ARGV from `at`: count, then per output its stream's KEYS index, counter, blob, signature; KEYS[#KEYS] is counts.
_APPEND = """
local function append(at)
  local counts = KEYS[#KEYS]
  for _ = 1, tonumber(ARGV[at]) do
    redis.call('XADD', KEYS[tonumber(ARGV[at + 1])], '*', 'd', ARGV[at + 3], 's', ARGV[at + 4])
    if ARGV[at + 2] ~= '' then redis.call('HINCRBY', counts, ARGV[at + 2], 1) end
    at = at + 4
  end
end
"""
# ARGV[1]: the most entries a pool may hold undone, ARGV[2] the most a pinned worker's inbox may hold (0: no limit);
# nothing is appended if a pool or inbox sent to holds that many.
_SEND = (
    _APPEND
    + """
local limit, inbox_limit, at = tonumber(ARGV[1]), tonumber(ARGV[2]), 3
for _ = 1, tonumber(ARGV[3]) do
  local counter = ARGV[at + 2]
  if limit > 0 and counter ~= '' then
    local added = tonumber(redis.call('HGET', KEYS[#KEYS], counter) or '0')
    local done = tonumber(redis.call('HGET', KEYS[#KEYS], 'done' .. string.sub(counter, 6)) or '0')
    if added - done >= limit then return 0 end
  end
  local stream = KEYS[tonumber(ARGV[at + 1])]
  if inbox_limit > 0 and string.find(stream, ':in:', 1, true) and redis.call('XLEN', stream) >= inbox_limit then
    return 0
  end
  at = at + 4
end
append(3)
return 1
"""
)
# KEYS[1]: the entry's stream; ARGV: group, consumer, entry id, its pool's done counter (or ''), then the outputs.
_COMMIT = (
    _APPEND
    + """
local held = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #held == 0 or held[1][2] ~= ARGV[2] then return 0 end
append(5)
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[#KEYS], ARGV[4], 1) end
return 1
"""
)
# A dead consumer's entries go back to the stream's end for others; KEYS[1] stream, ARGV group, consumer.
_REQUEUE = """
local held = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 10000, ARGV[2])
for _, entry in ipairs(held) do
  local found = redis.call('XRANGE', KEYS[1], entry[1], entry[1])
  if #found > 0 then redis.call('XADD', KEYS[1], '*', unpack(found[1][2])) end
  redis.call('XACK', KEYS[1], ARGV[1], entry[1])
  redis.call('XDEL', KEYS[1], entry[1])
end
return #held
"""
# KEYS: finished set, pool workers set; ARGV: pool, control stream prefix. Tells every pool worker the pool is done.
_FINISH = """
redis.call('SADD', KEYS[1], ARGV[1])
local workers = redis.call('SMEMBERS', KEYS[2])
for _, worker in ipairs(workers) do redis.call('XADD', ARGV[2] .. worker, '*', 'finish', ARGV[1]) end
return workers
"""
# KEYS: finished set, pool workers set, next ordinal, driver stream; ARGV: pools, the ordinal the driver chose (or ''),
# control stream prefix, consumer name prefix. A worker joins unless every pool is done; its control stream, group and
# consumer are made here, so that its silence counts from now (a worker gone before its first read is seen to be).
_JOIN = """
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[1]) then return {-1, {}} end
local ordinal = ARGV[2]
if ordinal == '' then ordinal = redis.call('INCR', KEYS[3]) - 1 end
redis.call('XGROUP', 'CREATE', ARGV[3] .. ordinal, 'd4py', '0', 'MKSTREAM')
redis.call('XGROUP', 'CREATECONSUMER', ARGV[3] .. ordinal, 'd4py', ARGV[4] .. ordinal)
redis.call('SADD', KEYS[2], ordinal)
redis.call('XADD', KEYS[4], '*', 'join', ordinal)
return {ordinal, redis.call('SMEMBERS', KEYS[1])}
"""


class RunStore:
    """One run's keys, reached through one client, with this run's key to sign and check entries."""

    def __init__(self, client: redis.Redis, run: str, key: bytes) -> None:
        self.client, self.key, self.prefix = client, key, f"d4py:{run}:"
        self.driver, self.counts, self.job = self.name("drv"), self.name("counts"), self.name("job")
        self._send, self._commit = client.register_script(_SEND), client.register_script(_COMMIT)
        self._requeue, self._finish = client.register_script(_REQUEUE), client.register_script(_FINISH)
        self._join = client.register_script(_JOIN)

    def load_scripts(self) -> None:
        """Load the scripts into the server's cache before the run calls them.

        A script called before it is cached is refused and sent again, arguments and all: a pool worker's first
        commit of xcorr's spectra sent its 105 MB twice.
        """
        for script in (self._send, self._commit, self._requeue, self._finish, self._join):
            self.client.script_load(script.script)

    def name(self, suffix: str) -> bytes:
        return (self.prefix + suffix).encode()

    def inbox(self, worker: int) -> bytes:
        return self.name(f"in:{worker}")

    def pool(self, partition: int) -> bytes:
        return self.name(f"pool:{partition}")

    def control(self, ordinal: int) -> bytes:
        return self.name(f"ctl:{ordinal}")

    def consumer(self, ordinal: int) -> str:
        """The name pool worker ``ordinal`` reads and commits under."""
        return f"{_CONSUMER}{ordinal}"

    def output(self, stream: bytes, batch: Batch, sent: SentBuffers | None = None, counter: str = "") -> Output:
        """``batch`` framed and signed for ``stream``; ``counter`` counts it in a pool."""
        frame, raws = encode(batch, sent)
        blob, signature = seal(self.key, stream, [frame, *raws])
        return stream, counter.encode(), blob, signature

    def read(self, stream: bytes, fields: dict[bytes, bytes], received: ReceivedBuffers | None = None) -> Batch:
        """The batch of one entry of ``stream``, once its signature is checked (``received``: what its reader kept)."""
        frame, *buffers = open_blob(self.key, stream, fields)
        return decode(frame, [bytearray(buffer) for buffer in buffers], received or ReceivedBuffers())

    def take(self, streams: dict[bytes, bytes], block_ms: int | None, consumer: str | None = None) -> Entries:
        """Entries after the given ids (XREAD), or new to ``consumer`` of the group (XREADGROUP, ids ``>``)."""
        if consumer is None:
            return cast(Entries, self.client.xread(streams, count=16, block=block_ms))  # type: ignore[arg-type]
        return cast(Entries, self.client.xreadgroup(GROUP, consumer, streams, count=1, block=block_ms))  # type: ignore[arg-type]

    def reclaim(self, stream: bytes, consumer: str, idle_ms: int) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Take for ``consumer`` one entry of ``stream`` that another has held ``idle_ms`` without committing."""
        found: list[Any] = self.client.xautoclaim(stream, GROUP, consumer, idle_ms, "0-0", count=1)
        return cast(list[tuple[bytes, dict[bytes, bytes]]], found[1])

    def send(self, outputs: list[Output], limit: int = 0, inbox_limit: int = 0) -> bool:
        """Append ``outputs``, each with its count, at once; unless a pool they go to holds ``limit`` entries undone,
        or an inbox ``inbox_limit`` entries."""
        keys, args = _outputs(outputs)
        return bool(self._send(keys=[*keys, self.counts], args=[limit, inbox_limit, *args]))

    def send_when_room(self, output: Output, limit: int, inbox_limit: int, waiting: Callable[[], None]) -> None:
        """Append ``output`` once its pool holds fewer than ``limit`` entries undone, or its inbox ``inbox_limit``.

        The pool's workers never wait to commit, so there is room again as soon as one of them is done; an inbox's
        reader calls ``waiting`` while it waits itself, which makes room in its own inbox.
        """
        pause = 0.001
        while not self.send([output], limit, inbox_limit):
            waiting()
            time.sleep(pause)  # back-pressure: this producer waits for its destination's reader
            pause = min(pause * 2, 0.05)

    def lengths(self, streams: Iterable[bytes]) -> dict[bytes, int]:
        """The entries each of ``streams`` holds (one round trip; none for no stream)."""
        streams = list(streams)
        if not streams:
            return {}
        pipeline = self.client.pipeline(transaction=False)
        for stream in streams:
            pipeline.xlen(stream)
        return {stream: int(length) for stream, length in zip(streams, pipeline.execute(), strict=True)}

    def commit(self, stream: bytes, entry: bytes, consumer: str, done: str, outputs: list[Output]) -> bool:
        """Append ``outputs`` and acknowledge ``entry``, if ``consumer`` still holds it; whether it did."""
        keys, args = _outputs(outputs, first=2)
        fence: list[Any] = [GROUP, consumer, entry, done]
        return bool(self._commit(keys=[stream, *keys, self.counts], args=[*fence, *args]))

    def requeue(self, stream: bytes, consumer: str) -> int:
        """Put the entries a dead ``consumer`` held back in ``stream`` for others; how many."""
        return int(self._requeue(keys=[stream], args=[GROUP, consumer]))

    def idle_ms(self, stream: bytes, consumer: str) -> int:
        """How long ``consumer`` has not read ``stream`` (since it joined, if it never has; 0 if it is unknown)."""
        for found in self.client.xinfo_consumers(stream, GROUP):
            if found["name"] in (consumer, consumer.encode()):
                return int(found["idle"])
        return 0

    def leave(self, ordinal: int) -> None:
        """Forget a pool worker (it died, retires or leaves): it is told nothing more."""
        self.client.srem(self.name("pool_workers"), ordinal)

    def retire(self, ordinal: int) -> None:
        """Tell a pool worker to leave the run once it has committed what it holds; it is told nothing more."""
        self.leave(ordinal)
        self.client.xadd(self.control(ordinal), {"retire": 1})

    def create_pools(self, partitions: Iterable[int]) -> None:
        """Make each pool's stream and its consumer group."""
        for partition in partitions:
            self.client.xgroup_create(self.pool(partition), GROUP, "0", mkstream=True)

    def finish_pool(self, partition: int) -> list[int]:
        """Tell every pool worker that ``partition``'s pool is done; the ordinals of those told."""
        told = self._finish(
            keys=[self.name("finished"), self.name("pool_workers")], args=[partition, self.prefix + "ctl:"]
        )
        return sorted(int(ordinal) for ordinal in told)

    def new_ordinal(self) -> int:
        """A pool worker's ordinal, chosen before it starts."""
        return int(self.client.incr(self.name("next"))) - 1

    def join(self, pools: int, ordinal: int | None = None) -> tuple[int, set[int]] | None:
        """Join the run as a pool worker: its ordinal and the pools already done, or None if all are."""
        keys = [self.name("finished"), self.name("pool_workers"), self.name("next"), self.driver]
        args = [pools, "" if ordinal is None else ordinal, self.prefix + "ctl:", _CONSUMER]
        ordinal, finished = self._join(keys=keys, args=args)
        return None if int(ordinal) < 0 else (int(ordinal), {int(p) for p in finished})

    def pool_counts(self, partitions: Iterable[int]) -> dict[int, tuple[int, int]]:
        """Per pool, the entries added to its stream and the entries done."""
        partitions = list(partitions)
        fields = [name for p in partitions for name in (f"added:{p}", f"done:{p}")]
        values = [int(value or 0) for value in self.client.hmget(self.counts, fields)] if fields else []
        return {p: (values[2 * n], values[2 * n + 1]) for n, p in enumerate(partitions)}

    def put_job(self, job: Any) -> None:
        """Store the run's job for its workers: its 32-byte signature, then the pickle in a sealed blob."""
        blob, signature = seal(self.key, self.job, [pickle.dumps(job)])
        self.client.set(self.job, signature + blob)

    def get_job(self) -> Any:
        stored = cast("bytes | None", self.client.get(self.job))
        if stored is None:
            raise LookupError(f"no run {self.prefix[5:-1]!r} on this Redis server")
        (payload,) = open_blob(self.key, self.job, {b"s": stored[:32], b"d": stored[32:]})
        return pickle.loads(payload)

    def delete(self) -> None:
        """Remove every key of the run (on a server the run did not start)."""
        keys = list(self.client.scan_iter(match=self.prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            self.client.delete(*keys[start : start + 500])


def _outputs(outputs: list[Output], first: int = 1) -> tuple[list[bytes], list[Any]]:
    streams: dict[bytes, int] = {}
    args: list[Any] = [len(outputs)]
    for stream, counter, blob, signature in outputs:
        index = streams.setdefault(stream, first + len(streams))
        args += [index, counter, blob, signature]
    return list(streams), args
