"""A traced run as OpenLineage run events: START, then COMPLETE, FAIL or ABORT, one JSON object per line.

The mapping (OpenLineage spec 2-0-2, the version openlineage-python 1.x
writes):

- the run is an OpenLineage run whose ``runId`` is a UUID derived from our
  run id (version 5, so an export made twice gives the same id); its job is
  the workflow, ``namespace`` the one given (``d4py`` by default) and
  ``name`` the workflow's name;
- the START event is at the run's start, the last at its end: COMPLETE for a
  run that ended ``ok``, FAIL for ``failed`` (with an ``errorMessage`` facet:
  the error and its traceback), ABORT for ``interrupted``; a run still
  running gives START alone;
- input datasets are the root PEs given data as run input (``-d``, ``-f``),
  one dataset ``WORKFLOW/PE/input`` each; output datasets are the
  unconnected outputs, ``WORKFLOW/PE/PORT``; the last event gives their item
  counts (``inputStatistics``, ``outputStatistics``);
- facets: ``processing_engine`` (d4py and its version), ``jobType``, and a
  custom run facet ``d4py`` on the last event with the backend, the process
  budget, every PE instance (host, pid, items in and out, busy seconds)
  and the failed calls. Its ``_schemaURL`` names a schema d4py does not
  publish.

Items are not datasets: their lineage is what the PROV and RO-Crate exports
hold.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from d4py_monitor.__about__ import __version__
from d4py_monitor.prov.facts import error_text, failure_error, run_inputs, utc
from d4py_monitor.prov.model import RunLineage
from d4py_monitor.record import RunRecord

__all__ = ["PRODUCER", "SCHEMA_URL", "openlineage_events", "run_uuid", "write_openlineage"]

PRODUCER = f"urn:d4py:d4py-monitor:{__version__}"  # a URI naming what wrote the events, as the spec asks
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
_FACETS = "https://openlineage.io/spec/facets"
_D4PY_FACET = "urn:d4py:openlineage:D4pyRunFacet:1"  # unpublished
_LAST = {"ok": "COMPLETE", "failed": "FAIL", "interrupted": "ABORT"}


def run_uuid(run_id: str) -> str:
    """The OpenLineage ``runId`` of our run ``run_id``: the same UUID every time."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:d4py:run:{run_id}"))


def openlineage_events(run: RunRecord, lineage: RunLineage, namespace: str = "d4py") -> list[dict[str, Any]]:
    """The run's OpenLineage ``RunEvent`` documents, START first (see the module's docstring)."""
    job = {
        "namespace": namespace,
        "name": run.workflow["name"],
        "facets": {
            "jobType": {
                **_facet("2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"),
                "processingType": "BATCH",
                "integration": "D4PY",
                "jobType": "WORKFLOW",
            }
        },
    }
    engine = {
        **_facet("1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet"),
        "version": run.versions.get("d4py", ""),
        "name": "d4py",
        "openlineageAdapterVersion": __version__,
    }
    inputs, outputs = _datasets(run, lineage, namespace)
    start = _event("START", run.started, run, {"processing_engine": engine}, job)
    start.update(inputs=[_plain(d) for d in inputs], outputs=[_plain(d) for d in outputs])
    if run.status not in _LAST:
        return [start]
    facets: dict[str, Any] = {"processing_engine": engine, "d4py": _d4py_facet(run, lineage)}
    if run.error:
        facets["errorMessage"] = {
            **_facet("1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"),
            "message": error_text(run),
            "programmingLanguage": "python",
            **({"stackTrace": run.error["traceback"]} if run.error.get("traceback") else {}),
        }
    end = _event(_LAST[run.status], run.ended, run, facets, job)
    end.update(inputs=inputs, outputs=outputs)
    return [start, end]


def write_openlineage(run: RunRecord, lineage: RunLineage, path: Path) -> None:
    """Write the run's OpenLineage events to ``path``, one JSON document per line."""
    events = openlineage_events(run, lineage)
    path.write_text("".join(json.dumps(event) + "\n" for event in events))


def _event(kind: str, seconds: float, run: RunRecord, facets: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventType": kind,
        "eventTime": utc(seconds).isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_uuid(run.id), "facets": facets},
        "job": job,
    }


def _facet(schema: str) -> dict[str, str]:
    return {"_producer": PRODUCER, "_schemaURL": f"{_FACETS}/{schema}"}


def _datasets(run: RunRecord, lineage: RunLineage, namespace: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Input and output datasets, with the item counts the last event gives."""
    name, graph = run.workflow["name"], run.workflow["graph"]
    given = sorted({record.pe for record in run_inputs(lineage) if record.value != "{}"})
    inputs = [
        {
            "namespace": namespace,
            "name": f"{name}/{pe}/input",
            "inputFacets": {
                "inputStatistics": {
                    **_facet("1-0-0/InputStatisticsInputDatasetFacet.json#/$defs/InputStatisticsInputDatasetFacet"),
                    "rowCount": run.inputs.get(pe, 0),
                }
            },
        }
        for pe in given
    ]
    connected = {(c["from"], c["output"]) for c in graph["connections"]}
    written: dict[tuple[str, str], int] = {}
    for instance in run.instances:
        for port, count in instance.writes.items():
            written[(instance.pe, port)] = written.get((instance.pe, port), 0) + count
    outputs = [
        {
            "namespace": namespace,
            "name": f"{name}/{pe['id']}/{port}",
            "outputFacets": {
                "outputStatistics": {
                    **_facet("1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"),
                    "rowCount": written.get((pe["id"], port), 0),
                }
            },
        }
        for pe in graph["pes"]
        for port in pe["outputs"]
        if (pe["id"], port) not in connected
    ]
    return inputs, outputs


def _plain(dataset: dict[str, Any]) -> dict[str, Any]:
    """A dataset without its counts, as the START event names it."""
    return {"namespace": dataset["namespace"], "name": dataset["name"]}


def _d4py_facet(run: RunRecord, lineage: RunLineage) -> dict[str, Any]:
    return {
        "_producer": PRODUCER,
        "_schemaURL": _D4PY_FACET,
        "runId": run.id,
        "backend": run.backend,
        "processes": run.processes,
        "status": run.status,
        "lineage": {"level": lineage.level, "share": lineage.share, "items": len(lineage.items)},
        "instances": [
            {
                "pe": i.pe,
                "index": i.index,
                "host": i.host,
                "pid": i.pid,
                "itemsIn": i.items_in,
                "itemsOut": i.items_out,
                "busySeconds": i.busy_s,
            }
            for i in run.instances
        ],
        "failures": [
            {"pe": f.pe, "instance": f.instance, "item": f.value, "error": failure_error(run, f)}
            for f in lineage.failures
        ],
    }
