"""What the registry holds about one PE, function or workflow: plain data, JSON both ways.

An entry never holds code objects: the code is the module source, stored
beside it and named by its sha256.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from d4py import UsageError

__all__ = ["KINDS", "Entry", "Port", "parse_ref", "sha256_of", "version_key"]

#: pe: a PE class; function: a plain function used through SimpleFunctionPE; workflow: a module-level graph.
KINDS = ("pe", "function", "workflow")

_NAMESPACE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_NAME = re.compile(r"[A-Za-z_]\w*")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


@dataclass(frozen=True)
class Port:
    """One port: its name, declared type and (inputs only) grouping, as d4py spells them."""

    direction: str  # "input" or "output"
    name: str
    type: str | None = None  # None: undeclared, accepts anything
    grouping: str | None = None

    def __post_init__(self) -> None:
        # Entries also arrive as JSON from remote clients: refuse what no describe() would write.
        texts = (self.name, self.type or "", self.grouping or "")
        if self.direction not in ("input", "output") or not all(isinstance(t, str) for t in texts):
            raise UsageError(f"malformed port {self!r}: direction input or output, and text for name, type, grouping")


@dataclass(frozen=True)
class Entry:
    """One registered PE, function or workflow at one version."""

    namespace: str
    name: str
    version: str
    kind: str
    module: str  # the module the source was imported as when it was added
    sha256: str  # of the module source
    doc: str = ""
    ports: tuple[Port, ...] = ()
    imports: tuple[str, ...] = ()
    author: str | None = None
    licence: str | None = None
    ports_from: str = "instance"  # how the ports were found: instance, graph or source (ast)
    details: dict[str, Any] = field(default_factory=dict)  # a workflow's PEs and connections
    added: str = ""  # UTC time, set by the store

    def __post_init__(self) -> None:
        check_name(self.namespace, self.name)
        check_version(self.version)
        if self.kind not in KINDS:
            raise UsageError(f"entry kind {self.kind!r}: use one of {', '.join(KINDS)}")

    @property
    def qualified(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def ref(self) -> str:
        return f"{self.qualified}@{self.version}"

    def summary(self) -> str:
        """The docstring's first line."""
        return self.doc.strip().split("\n", 1)[0] if self.doc else ""

    def stamped(self, added: str) -> Entry:
        return replace(self, added=added)

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["ports"] = [asdict(p) for p in self.ports]
        document["imports"] = list(self.imports)
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Entry:
        fields = dict(document)
        fields["ports"] = tuple(Port(**p) for p in fields.get("ports", ()))
        fields["imports"] = tuple(fields.get("imports", ()))
        return cls(**fields)


def check_name(namespace: str, name: str) -> None:
    if not _NAMESPACE.fullmatch(namespace):
        raise UsageError(f"namespace {namespace!r}: use dotted Python identifiers, such as 'seismo.xcorr'")
    if not _NAME.fullmatch(name):
        raise UsageError(f"name {name!r}: use a Python identifier")


def check_version(version: str) -> None:
    if not _VERSION.fullmatch(version):
        raise UsageError(f"version {version!r}: use letters, digits and . _ + - (such as 1.2.0)")


def parse_ref(ref: str) -> tuple[str, str, str | None]:
    """Split ``ns.Name[@VERSION]`` into namespace, name and version (None: the latest)."""
    qualified, _, version = ref.partition("@")
    namespace, _, name = qualified.rpartition(".")
    if not namespace:
        raise UsageError(f"{ref!r}: give NAMESPACE.NAME[@VERSION], such as wordfreq.CountWords@1.0")
    check_name(namespace, name)
    if version:
        check_version(version)
    return namespace, name, version or None


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Order versions as people read them: 1.10 after 1.9; numbers before words at the same place."""
    parts = re.findall(r"\d+|[A-Za-z]+", version)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def sha256_of(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()
