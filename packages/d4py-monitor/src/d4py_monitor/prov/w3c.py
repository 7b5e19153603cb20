"""A traced run as a W3C PROV document (PROV-DM), written as PROV-JSON or PROV-N with the ``prov`` package.

The mapping:

- the run is a ``prov:Activity`` (``run:run``, start and end times, status,
  backend, error) associated with d4py, a ``prov:SoftwareAgent``, following
  the workflow, a ``prov:Plan`` entity (its file, the file's SHA-256 when the
  file can be read at export time, and the record's graph hash);
- each PE instance is a ``prov:Activity`` (``run:instance/PE/INDEX``)
  started by the run (``wasStartedBy``, the run as starter) and associated
  with its PE, a ``prov:SoftwareAgent``, following the workflow plan.
  Instances are activities, not agents, because they are what reads and
  writes items: PROV relates entities to activities (``used``,
  ``wasGeneratedBy``), and the PE's code is the agent responsible for them;
- each item is a ``prov:Entity`` (``run:item/ID``, ID being core's lineage
  id) with its preview, PE, instance, port and metadata as ``d4py:``
  attributes; it ``wasGeneratedBy`` the instance that wrote it and
  ``wasDerivedFrom`` its parents, which that instance ``used``. Run inputs
  are entities the run used. The set of everything an instance read, which
  its ``postprocess`` writes derive from, is a ``prov:Collection`` with a
  ``hadMember`` per read;
- each failed call is a ``prov:Activity`` (``run:failure/N``) started by its
  instance, with the error and what it was called with, that used its
  inputs; a failed run ``wasEndedBy`` its first failed call.

Parents a sampled run did not keep are left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from d4py import UsageError
from d4py_monitor.prov.facts import (
    error_text,
    failure_error,
    file_sha256,
    instances,
    item_name,
    missing,
    utc,
    workflow_file,
)
from d4py_monitor.prov.model import ItemRecord, RunLineage
from d4py_monitor.record import InstanceRecord, RunRecord
from d4py_monitor.redact import redact

if TYPE_CHECKING:
    from prov.model import Namespace, ProvDocument

__all__ = ["D4PY_NAMESPACE", "FORMATS", "prov_document", "write_prov"]

D4PY_NAMESPACE = "urn:d4py:ns#"  # d4py's terms; a URN, as the project publishes no vocabulary on the web
FORMATS = ("prov-json", "prov-n")


def prov_document(run: RunRecord, lineage: RunLineage) -> ProvDocument:
    """The PROV document of ``run`` and its ``lineage`` (see the module's docstring for the mapping)."""
    try:
        from prov.constants import PROV
        from prov.model import ProvDocument
    except ImportError:
        raise missing("prov", "W3C PROV") from None
    return _Builder(ProvDocument(), PROV, run, lineage).build()


def write_prov(run: RunRecord, lineage: RunLineage, path: Path, fmt: str) -> None:
    """Write the PROV document of ``run`` to ``path``, as ``fmt``: ``prov-json`` or ``prov-n``."""
    if fmt not in FORMATS:
        raise UsageError(f"PROV format {fmt!r}: give one of {', '.join(FORMATS)}")
    document = prov_document(run, lineage)
    text = document.serialize(format="json", indent=2) if fmt == "prov-json" else document.serialize(format="provn")
    path.write_text(f"{text}\n")


class _Builder:
    """Adds the records of one run to a document."""

    def __init__(self, document: ProvDocument, prov: Namespace, run: RunRecord, lineage: RunLineage) -> None:
        self.document, self.prov, self.run, self.lineage = document, prov, run, lineage
        self.uses: set[tuple[Any, Any]] = set()  # (activity, entity): one used() each
        self.d4py = document.add_namespace("d4py", D4PY_NAMESPACE)
        self.ns = document.add_namespace("run", f"urn:d4py:run:{run.id}:")

    def build(self) -> ProvDocument:
        self._run()
        for pe in self.run.workflow["graph"]["pes"]:
            self.document.agent(
                self.ns[f"pe/{pe['id']}"],
                {"prov:type": self.prov["SoftwareAgent"], "prov:label": pe["name"], "d4py:class": pe["class"]},
            )
        recorded = {(i.pe, i.index): i for i in self.run.instances}
        for pe_id, index in instances(self.run):
            self._instance(pe_id, index, recorded.get((pe_id, index)))
        for _, record in sorted(self.lineage.items.items()):
            self._item(record)
        self._failures()
        return self.document

    def _run(self) -> None:
        run, d4py = self.run, self.d4py
        attributes: dict[Any, Any] = {
            "prov:label": f"d4py run {run.id} of {run.workflow['name']}",
            d4py["status"]: run.status,
            d4py["backend"]: run.backend,
            d4py["host"]: run.host,
            d4py["options"]: json.dumps(redact(run.options), sort_keys=True),
        }
        if run.processes is not None:
            attributes[d4py["processes"]] = run.processes
        if run.error:
            attributes[d4py["error"]] = error_text(run)
        self.document.activity(self.ns["run"], utc(run.started), utc(run.ended), attributes)
        engine: dict[Any, Any] = {
            "prov:type": self.prov["SoftwareAgent"],
            "prov:label": "d4py",
            d4py["version"]: run.versions.get("d4py", ""),
        }
        self.document.agent(self.ns["d4py"], engine)
        plan: dict[Any, Any] = {"prov:type": self.prov["Plan"], "prov:label": run.workflow["name"]}
        plan[d4py["graphHash"]] = run.workflow["hash"]
        if run.workflow.get("source"):
            plan[d4py["source"]] = run.workflow["source"]
        if run.workflow.get("attr"):
            plan[d4py["attr"]] = run.workflow["attr"]
        path = workflow_file(run)
        if path is not None:
            plan[d4py["sha256"]] = file_sha256(path)
        self.document.entity(self.ns["workflow"], plan)
        self.document.wasAssociatedWith(self.ns["run"], self.ns["d4py"], self.ns["workflow"])

    def _instance(self, pe_id: str, index: int, record: InstanceRecord | None) -> None:
        d4py = self.d4py
        attributes: dict[Any, Any] = {"prov:label": f"{pe_id}[{index}]", d4py["pe"]: pe_id, d4py["index"]: index}
        if record is not None:
            attributes.update(
                {d4py["host"]: record.host, d4py["pid"]: record.pid, d4py["busySeconds"]: float(record.busy_s)}
            )
            attributes.update({d4py["itemsIn"]: record.items_in, d4py["itemsOut"]: record.items_out})
        activity = self._instance_id(pe_id, index)
        self.document.activity(activity, other_attributes=attributes)
        self.document.wasStartedBy(activity, starter=self.ns["run"])
        self.document.wasAssociatedWith(activity, self.ns[f"pe/{pe_id}"], self.ns["workflow"])

    def _item(self, record: ItemRecord) -> None:
        d4py, known = self.d4py, self.lineage.items
        attributes: dict[Any, Any] = {"prov:label": item_name(record), d4py["pe"]: record.pe}
        if record.port:
            attributes.update({d4py["instance"]: record.instance, d4py["port"]: record.port})
        if record.port is not None:
            attributes[d4py["value"]] = record.value
        if record.output:
            attributes["prov:type"] = d4py["Output"]
        for key, value in record.metadata.items():
            attributes[d4py[f"metadata.{quote(str(key), safe='')}"]] = _literal(value)
        entity = self.ns[f"item/{record.id}"]
        parents = [parent for parent in record.parents if parent in known]
        if record.port == "":
            self.document.entity(entity, {**attributes, "prov:type": d4py["RunInput"]})
            self._used(self.ns["run"], entity)
            return
        writer = self._instance_id(record.pe, record.instance)
        if record.port is None:
            self.document.collection(entity, attributes)
            for member in parents:
                self.document.hadMember(entity, self.ns[f"item/{member}"])
                self._used(writer, self.ns[f"item/{member}"])
        else:
            self.document.entity(entity, attributes)
            for parent in parents:
                self.document.wasDerivedFrom(entity, self.ns[f"item/{parent}"])
                if known[parent].port is not None:  # a set of reads is the instance's own, not an input
                    self._used(writer, self.ns[f"item/{parent}"])
        self.document.wasGeneratedBy(entity, writer)

    def _failures(self) -> None:
        d4py, known = self.d4py, self.lineage.items
        for number, failure in enumerate(self.lineage.failures, start=1):
            activity = self.ns[f"failure/{number}"]
            attributes: dict[Any, Any] = {
                "prov:type": d4py["FailedCall"],
                "prov:label": f"{failure.pe}[{failure.instance}] failed",
                d4py["pe"]: failure.pe,
                d4py["instance"]: failure.instance,
                d4py["value"]: failure.value,
            }
            error = failure_error(self.run, failure)
            if error:
                attributes[d4py["error"]] = error
            self.document.activity(activity, other_attributes=attributes)
            self.document.wasStartedBy(activity, starter=self._instance_id(failure.pe, failure.instance))
            for item_id in failure.inputs:
                if item_id in known:
                    self._used(activity, self.ns[f"item/{item_id}"])
            if number == 1 and self.run.status == "failed":
                self.document.wasEndedBy(self.ns["run"], ender=activity, time=utc(self.run.ended))

    def _used(self, activity: Any, entity: Any) -> None:
        if (activity, entity) not in self.uses:
            self.uses.add((activity, entity))
            self.document.used(activity, entity)

    def _instance_id(self, pe_id: str, index: int) -> Any:
        return self.ns[f"instance/{pe_id}/{index}"]


def _literal(value: Any) -> Any:
    """A metadata value as a PROV literal: strings, numbers and booleans as they are, anything else as JSON."""
    return value if isinstance(value, (str, int, float, bool)) else json.dumps(value, sort_keys=True)
