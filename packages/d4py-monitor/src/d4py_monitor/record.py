"""What is kept of one run: the :class:`RunRecord` and an :class:`InstanceRecord` per PE instance.

Records are plain data, converted to and from JSON documents here, so that
every store (SQLite today, MongoDB later) keeps the same fields and ``d4py
runs show --json`` prints them as stored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

__all__ = ["TRAFFIC", "InstanceRecord", "RunRecord", "RunSummary", "Second", "Sent"]


class Sent(TypedDict):
    """What one instance sent to one destination instance: a cell of the communication matrix."""

    pe: str
    index: int
    items: int
    bytes: int


#: The fields of an instance record about what moved where (stores may keep them in one document).
TRAFFIC = ("bytes_in", "bytes_out", "sent", "keys", "latency")

#: One second of an instance: (wall-clock second, items in, items out, busy s, idle s, blocked s).
Second = tuple[int, int, int, float, float, float]


@dataclass
class InstanceRecord:
    """One PE instance of a run: where it ran, what it read and wrote per port, where its time went."""

    pe: str
    index: int
    host: str
    pid: int
    process: int = 0  # the run's processes, numbered in the order of the first instance each ran
    reads: dict[str, int] = field(default_factory=dict)  # a root's calls count on port ''
    writes: dict[str, int] = field(default_factory=dict)
    busy_s: float = 0.0
    idle_s: float = 0.0
    blocked_s: float = 0.0
    series: list[Second] = field(default_factory=list)
    bytes_in: dict[str, int] = field(default_factory=dict)  # per input port, as the items travelled
    bytes_out: dict[str, int] = field(default_factory=dict)  # per output port
    sent: list[Sent] = field(default_factory=list)  # the communication matrix's row of this instance
    keys: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # input port -> most frequent group keys
    latency: dict[str, float] = field(default_factory=dict)  # samples, p50_s, p95_s, max_s

    @property
    def items_in(self) -> int:
        return sum(self.reads.values())

    @property
    def items_out(self) -> int:
        return sum(self.writes.values())

    def times(self) -> tuple[float, float, float]:
        """Busy, idle and blocked seconds."""
        return self.busy_s, self.idle_s, self.blocked_s

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["items_in"], document["items_out"] = self.items_in, self.items_out
        document["series"] = [list(second) for second in self.series]
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> InstanceRecord:
        fields = {key: value for key, value in document.items() if key not in ("items_in", "items_out")}
        fields["series"] = [tuple(second) for second in fields.get("series", [])]
        fields["keys"] = {port: [(key, count) for key, count in top] for port, top in fields.get("keys", {}).items()}
        return cls(**fields)


@dataclass
class RunSummary:
    """A run as ``d4py runs list`` shows it."""

    id: str
    workflow: str
    backend: str
    status: str
    started: float  # seconds since the epoch
    ended: float

    @property
    def duration_s(self) -> float:
        return self.ended - self.started


@dataclass
class RunRecord:
    """One run: its workflow and graph, backend and options, processes, outcome and instances.

    ``workflow`` holds ``name`` (for lists), ``source`` (the file or module
    the user gave, when known), ``attr``, ``graph`` (PEs with ports and
    instance counts, connections with groupings) and ``hash`` (of the graph
    without instance counts, so one workflow run with another ``-n`` keeps
    its hash). ``status`` is ``ok``, ``failed`` or ``interrupted`` (Ctrl-C).
    ``error`` holds ``type``, ``message`` and, for a PE that
    failed, ``pe``, ``instance``, ``stage``, ``item`` and ``traceback``.
    """

    id: str
    workflow: dict[str, Any]
    backend: str
    options: dict[str, Any]
    processes: int | None  # the budget, -n
    inputs: dict[str, int]  # root PE -> how many inputs the run gave it
    started: float
    ended: float
    status: str
    error: dict[str, Any] | None
    host: str
    pid: int
    versions: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)  # items processed per PE, from the result
    instances: list[InstanceRecord] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.ended - self.started

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["duration_s"] = self.duration_s
        document["instances"] = [instance.to_json() for instance in self.instances]
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> RunRecord:
        fields = {key: value for key, value in document.items() if key != "duration_s"}
        fields["instances"] = [InstanceRecord.from_json(i) for i in fields.get("instances", [])]
        return cls(**fields)
