"""Facts about a run that the exports share: times, the workflow file, names for items and instances, errors."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from d4py import UsageError
from d4py.lineage import count_of
from d4py_monitor.prov.model import Failure, ItemRecord, RunLineage
from d4py_monitor.record import RunRecord

__all__ = [
    "INSTALL",
    "error_text",
    "failure_error",
    "file_sha256",
    "instances",
    "item_name",
    "missing",
    "run_inputs",
    "utc",
    "workflow_file",
]

INSTALL = "pip install 'd4py-monitor[prov]'"


def missing(package: str, export: str) -> UsageError:
    """The error for an export whose package is not installed."""
    return UsageError(f"the {export} export needs the {package} package: {INSTALL}")


def utc(seconds: float) -> datetime:
    """``seconds`` since the epoch as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def workflow_file(run: RunRecord) -> Path | None:
    """The workflow's Python file, if the record names one and it can be read now."""
    source = run.workflow.get("source")
    if not source or not source.endswith(".py"):
        return None
    path = Path(source)
    return path if path.is_file() else None


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file's content, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def instances(run: RunRecord) -> list[tuple[str, int]]:
    """Every PE instance the run's plan had, (PE id, index), in graph order."""
    return [(pe["id"], index) for pe in run.workflow["graph"]["pes"] for index in range(pe["instances"])]


def run_inputs(lineage: RunLineage) -> list[ItemRecord]:
    """The run inputs fed to root PEs (``{}`` for each ``-i`` iteration), in id order."""
    return [record for _, record in sorted(lineage.items.items()) if record.port == ""]


def item_name(record: ItemRecord) -> str:
    """A readable, unique name: ``SplitWords1[0].output #3`` (the instance's third record)."""
    count = count_of(record.id)
    if record.port == "":
        return f"{record.pe} run input #{count}"
    if record.port is None:
        return f"{record.pe}[{record.instance}] reads #{count}"
    return f"{record.pe}[{record.instance}].{record.port} #{count}"


def error_text(run: RunRecord) -> str:
    """The run's error in one line, ``Type: message``; empty if it has none."""
    if not run.error:
        return ""
    return f"{run.error.get('type', 'Error')}: {run.error.get('message', '')}"


def failure_error(run: RunRecord, failure: Failure) -> str:
    """What ``failure`` raised: its own record, else the run's error when it names the same instance."""
    if failure.error:
        return failure.error
    error = run.error or {}
    if (error.get("pe"), error.get("instance")) == (failure.pe, failure.instance):
        return error_text(run)
    return ""
