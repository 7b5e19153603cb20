"""A traced run as a Provenance Run Crate: an RO-Crate of the workflow and of what each PE instance did.

The crate (RO-Crate 1.1; Process Run Crate, Workflow Run Crate and
Provenance Run Crate 0.5; Workflow RO-Crate 1.0) holds:

- the workflow file, copied into the crate when the run record names a file
  that can be read at export time (what it holds then, which may differ from
  what ran: the record's graph hash says what ran), as the crate's
  ``mainEntity``: ``File``, ``SoftwareSourceCode``, ``ComputationalWorkflow``
  and ``HowTo``, in the language d4py; its tools are the PEs
  (``SoftwareApplication``), its steps a ``HowToStep`` per PE. The graph's
  connections are left out: ``ParameterConnection`` needs the workflow-run
  JSON-LD context, which no package ships, so a crate with it could not be
  validated offline;
- ports as ``FormalParameter``\\ s, and every item as a ``PropertyValue`` (its
  preview as value) that is an example of the ports it was written to and
  read from. Ports no kept item crossed are left out (the profile wants an
  example for each parameter);
- a ``CreateAction`` for the run (the workflow as instrument, the run inputs
  given data as object, the items of unconnected outputs as result, start,
  end, status, error), one per PE instance (its PE as instrument, what it
  read and wrote), a ``ControlAction`` per instance (its step), and an
  ``OrganizeAction`` of d4py over them;
- ``provenance.json``: the run's W3C PROV document (PROV-JSON), with the
  lineage of every item (what derives from what, which the crate's actions
  only summarise per instance).

The crate's license is not known to d4py: the root says so, to be set before
the crate is published.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from d4py_monitor.prov.facts import error_text, failure_error, instances, item_name, utc, workflow_file
from d4py_monitor.prov.model import ItemRecord, RunLineage
from d4py_monitor.prov.w3c import write_prov
from d4py_monitor.record import RunRecord

__all__ = ["PROFILES", "write_ro_crate"]

PROFILES = {
    "https://w3id.org/ro/wfrun/process/0.5": "Process Run Crate",
    "https://w3id.org/ro/wfrun/workflow/0.5": "Workflow Run Crate",
    "https://w3id.org/ro/wfrun/provenance/0.5": "Provenance Run Crate",
    "https://w3id.org/workflowhub/workflow-ro-crate/1.0": "Workflow RO-Crate",
}
CONTEXT = "https://w3id.org/ro/crate/1.1/context"
PROVENANCE_FILE = "provenance.json"
_STATUS = {"ok": "http://schema.org/CompletedActionStatus", "running": "http://schema.org/ActiveActionStatus"}
_FAILED = "http://schema.org/FailedActionStatus"


def write_ro_crate(run: RunRecord, lineage: RunLineage, folder: Path) -> None:
    """Write the run's crate into ``folder`` (made if missing): ``ro-crate-metadata.json`` and the files it names."""
    folder.mkdir(parents=True, exist_ok=True)
    source = workflow_file(run)
    workflow_id = source.name if source is not None else "#workflow"
    if source is not None:  # a .py file: it cannot be named like the crate's own files
        shutil.copyfile(source, folder / source.name)
    write_prov(run, lineage, folder / PROVENANCE_FILE, "prov-json")
    document = {"@context": CONTEXT, "@graph": _Crate(run, lineage, workflow_id).entities()}
    (folder / "ro-crate-metadata.json").write_text(json.dumps(document, indent=2) + "\n")


def _time(seconds: float) -> str:
    """ISO 8601 to the millisecond, the form the Process Run Crate profile checks."""
    return utc(seconds).isoformat(timespec="milliseconds")


def _ref(identifier: str) -> dict[str, str]:
    return {"@id": identifier}


def _refs(identifiers: Iterable[str]) -> list[dict[str, str]] | dict[str, str]:
    """References to ``identifiers``; one alone is not in a list, as RO-Crate 1.1 recommends."""
    references = [_ref(identifier) for identifier in identifiers]
    return references[0] if len(references) == 1 else references


class _Crate:
    """The entities of one run's crate."""

    def __init__(self, run: RunRecord, lineage: RunLineage, workflow_id: str) -> None:
        self.run, self.lineage, self.workflow_id = run, lineage, workflow_id
        self.graph = run.workflow["graph"]
        records = [record for _, record in sorted(lineage.items.items())]
        # The items the crate holds: not the sets of reads, nor the empty run inputs of -i iterations.
        self.items = [r for r in records if r.port is not None and not (r.port == "" and r.value == "{}")]
        self.held = {record.id for record in self.items}
        self.given: dict[str, list[ItemRecord]] = {}  # root PE -> the run inputs it was given
        self.results: dict[tuple[str, str], list[ItemRecord]] = {}  # unconnected output -> its items
        for record in self.items:
            if record.port == "":
                self.given.setdefault(record.pe, []).append(record)
            elif record.output and record.port:
                self.results.setdefault((record.pe, record.port), []).append(record)
        self.by_instance: dict[tuple[str, int], list[ItemRecord]] = {}  # what each instance wrote, sets included
        for record in records:
            if record.port != "":
                self.by_instance.setdefault((record.pe, record.instance), []).append(record)
        self.port_items = self._port_items()

    def entities(self) -> list[dict[str, Any]]:
        run = self.run
        actions = self._actions()
        root = {
            "@id": "./",
            "@type": "Dataset",
            "name": f"d4py run {run.id} of {run.workflow['name']}",
            "description": f"Provenance of d4py run {run.id}: workflow {run.workflow['name']}, "
            f"{run.backend} backend, status {run.status}.",
            "datePublished": _time(run.ended),
            "license": _ref("#license"),
            "conformsTo": _refs(PROFILES),
            "mainEntity": _ref(self.workflow_id),
            "hasPart": _refs([self.workflow_id, PROVENANCE_FILE]),
            "mentions": _refs(action["@id"] for action in actions),
        }
        descriptor = {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "conformsTo": _ref("https://w3id.org/ro/crate/1.1"),
            "about": _ref("./"),
        }
        return [
            descriptor,
            root,
            *self._contextual(),
            self._workflow(),
            *self._tools(),
            *self._parameters(),
            *self._items(),
            *actions,
        ]

    def _contextual(self) -> list[dict[str, Any]]:
        version = self.run.versions.get("d4py", "")
        profiles = [
            {"@id": profile, "@type": "CreativeWork", "name": name, "version": profile.rsplit("/", 1)[1]}
            for profile, name in PROFILES.items()
        ]
        return [
            *profiles,
            {
                "@id": "#license",
                "@type": "CreativeWork",
                "name": "No license stated",
                "description": "d4py does not know the license of a run's workflow and data: "
                "set one before publishing.",
            },
            {"@id": "#d4py-language", "@type": "ComputerLanguage", "name": "d4py", "version": version},
            {"@id": "#d4py", "@type": "SoftwareApplication", "name": "d4py", "softwareVersion": version},
            {
                "@id": PROVENANCE_FILE,
                "@type": "File",
                "name": "W3C PROV document of the run (PROV-JSON)",
                "encodingFormat": "application/json",
                "about": _ref("#run"),
            },
        ]

    def _workflow(self) -> dict[str, Any]:
        run = self.run
        types = ["SoftwareSourceCode", "ComputationalWorkflow", "HowTo"]
        workflow = {
            "@id": self.workflow_id,
            "@type": ["File", *types] if self.workflow_id != "#workflow" else types,
            "name": run.workflow["name"],
            "encodingFormat": "text/x-python",
            "programmingLanguage": _ref("#d4py-language"),
            "identifier": run.workflow["hash"],
            "hasPart": _refs(f"#pe/{pe['id']}" for pe in self.graph["pes"]),
            "step": _refs(f"#step/{pe['id']}" for pe in self.graph["pes"]),
            "input": _refs(f"#param/run/{pe}/input" for pe in self.given),
            "output": _refs(f"#param/run/{pe}/{port}" for pe, port in self.results),
        }
        if run.workflow.get("source"):
            workflow["description"] = f"The workflow file {run.workflow['source']} (graph hash {run.workflow['hash']})."
        return workflow

    def _tools(self) -> list[dict[str, Any]]:
        tools = []
        for position, pe in enumerate(self.graph["pes"]):
            pe_id = pe["id"]
            tools.append(
                {
                    "@id": f"#pe/{pe_id}",
                    "@type": "SoftwareApplication",
                    "name": pe["name"],
                    "description": f"PE {pe_id}, class {pe['class']}, {pe['instances']} instance(s).",
                    "softwareVersion": self.run.versions.get("d4py", ""),
                    "input": _refs(f"#param/{pe_id}/{p}" for p in pe["inputs"] if (pe_id, p) in self.port_items),
                    "output": _refs(f"#param/{pe_id}/{p}" for p in pe["outputs"] if (pe_id, p) in self.port_items),
                }
            )
            tools.append(
                {
                    "@id": f"#step/{pe_id}",
                    "@type": "HowToStep",
                    "name": pe_id,
                    "position": str(position),
                    "workExample": _ref(f"#pe/{pe_id}"),
                }
            )
        return tools

    def _parameters(self) -> list[dict[str, Any]]:
        parameters = []
        for (pe_id, port), records in self.port_items.items():
            parameters.append(self._parameter(f"#param/{pe_id}/{port}", f"{pe_id}.{port}", records))
        for pe_id, records in self.given.items():
            parameters.append(self._parameter(f"#param/run/{pe_id}/input", f"run input of {pe_id}", records))
        for (pe_id, port), records in self.results.items():
            parameters.append(self._parameter(f"#param/run/{pe_id}/{port}", f"{pe_id}.{port} (a result)", records))
        return parameters

    def _parameter(self, identifier: str, name: str, records: list[ItemRecord]) -> dict[str, Any]:
        return {
            "@id": identifier,
            "@type": "FormalParameter",
            "name": name,
            "additionalType": "PropertyValue",
            "workExample": _refs(f"#item/{record.id}" for record in records),
        }

    def _items(self) -> list[dict[str, Any]]:
        examples: dict[int, list[str]] = {}
        for (pe_id, port), records in self.port_items.items():
            for record in records:
                examples.setdefault(record.id, []).append(f"#param/{pe_id}/{port}")
        for record in self.items:
            if record.port == "":
                examples.setdefault(record.id, []).append(f"#param/run/{record.pe}/input")
            if record.output:
                examples.setdefault(record.id, []).append(f"#param/run/{record.pe}/{record.port}")
        return [
            {
                "@id": f"#item/{record.id}",
                "@type": "PropertyValue",
                "name": item_name(record),
                "value": record.value,
                "exampleOfWork": _refs(examples.get(record.id, [])),
            }
            for record in self.items
        ]

    def _actions(self) -> list[dict[str, Any]]:
        run = self.run
        status = _STATUS.get(run.status, _FAILED)
        times = {"startTime": _time(run.started), "endTime": _time(run.ended)}
        workflow_run: dict[str, Any] = {
            "@id": "#run",
            "@type": "CreateAction",
            "name": f"Run {run.id} of {run.workflow['name']}",
            "description": f"d4py run {run.id} on the {run.backend} backend"
            + (f", {run.processes} processes" if run.processes else "")
            + f", on {run.host}.",
            "instrument": _ref(self.workflow_id),
            "object": _refs(f"#item/{r.id}" for records in self.given.values() for r in records),
            "result": _refs(f"#item/{r.id}" for records in self.results.values() for r in records),
            "actionStatus": status,
            **times,
        }
        if run.error and status == _FAILED:
            workflow_run["error"] = error_text(run)
        organize = {
            "@id": "#engine-run",
            "@type": "OrganizeAction",
            "name": f"d4py organising run {run.id}",
            "instrument": _ref("#d4py"),
            "result": _ref("#run"),
            "object": _refs(f"#control/{pe_id}/{index}" for pe_id, index in instances(run)),
            "actionStatus": status,
            **times,
        }
        steps = []
        for pe_id, index in instances(run):
            steps += self._instance_actions(pe_id, index)
        return [workflow_run, organize, *steps]

    def _instance_actions(self, pe_id: str, index: int) -> list[dict[str, Any]]:
        known = self.lineage.items
        wrote = self.by_instance.get((pe_id, index), [])
        read: set[int] = set()  # its sets of reads, and the inputs its items derive from
        for record in wrote:
            read.update(record.parents if record.port is None else (p for p in record.parents if p in known))
        failures = [f for f in self.lineage.failures if (f.pe, f.instance) == (pe_id, index)]
        action: dict[str, Any] = {
            "@id": f"#run/{pe_id}/{index}",
            "@type": "CreateAction",
            "name": f"{pe_id}[{index}]",
            "instrument": _ref(f"#pe/{pe_id}"),
            "object": _refs(f"#item/{i}" for i in sorted(read & self.held)),
            "result": _refs(f"#item/{r.id}" for r in wrote if r.port),
            "actionStatus": _FAILED if failures else _STATUS["ok"],
        }
        if failures:
            action["error"] = "; ".join(failure_error(self.run, f) or f"failed on {f.value}" for f in failures)
        control = {
            "@id": f"#control/{pe_id}/{index}",
            "@type": "ControlAction",
            "name": f"{pe_id}[{index}] scheduled",
            "instrument": _ref(f"#step/{pe_id}"),
            "object": _ref(action["@id"]),
            "actionStatus": action["actionStatus"],
        }
        return [action, control]

    def _port_items(self) -> dict[tuple[str, str], list[ItemRecord]]:
        """(PE, port) -> the items that crossed it: written to an output, or read on an input."""
        written: dict[tuple[str, str], list[ItemRecord]] = {}
        for record in self.items:
            if record.port:
                written.setdefault((record.pe, record.port), []).append(record)
        crossed = dict(written)
        for c in self.graph["connections"]:
            records = written.get((c["from"], c["output"]), [])
            if records:
                crossed[(c["to"], c["input"])] = crossed.get((c["to"], c["input"]), []) + records
        return crossed
