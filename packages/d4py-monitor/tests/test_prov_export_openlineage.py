"""OpenLineage export of a real traced run: events the official Python client's model accepts unchanged.

openlineage-python ships no JSON schema file, and none is on PyPI: each event
is checked against the spec's required fields by hand, and rebuilt with the
client's classes (generated from the spec, with its checks of UUIDs, times
and URIs), which must serialise to the same document.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime
from urllib.parse import urlparse

import pytest
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    error_message_run,
    input_statistics_input_dataset,
    job_type_job,
    output_statistics_output_dataset,
    processing_engine_run,
)
from openlineage.client.serde import Serde

from d4py_monitor.prov.openlineage import openlineage_events, run_uuid, write_openlineage

STANDARD = {
    "processing_engine": processing_engine_run.ProcessingEngineRunFacet,
    "errorMessage": error_message_run.ErrorMessageRunFacet,
    "jobType": job_type_job.JobTypeJobFacet,
    "inputStatistics": input_statistics_input_dataset.InputStatisticsInputDatasetFacet,
    "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet,
}
CUSTOM = {"d4py"}


def facets(found):
    """Our standard facets rebuilt with the client's classes; custom facets left out."""
    rebuilt = {}
    for name, fields in (found or {}).items():
        if name in CUSTOM:
            continue
        values = {key: value for key, value in fields.items() if not key.startswith("_")}
        rebuilt[name] = STANDARD[name](**values, producer=fields["_producer"])
    return rebuilt


def rebuilt(event):
    """``event`` built again with openlineage-python's model, as that model serialises it."""
    run_event = RunEvent(
        eventType=RunState(event["eventType"]),
        eventTime=event["eventTime"],
        producer=event["producer"],
        run=Run(runId=event["run"]["runId"], facets=facets(event["run"].get("facets"))),
        job=Job(namespace=event["job"]["namespace"], name=event["job"]["name"], facets=facets(event["job"]["facets"])),
        inputs=[
            InputDataset(d["namespace"], d["name"], inputFacets=facets(d.get("inputFacets"))) for d in event["inputs"]
        ],
        outputs=[
            OutputDataset(d["namespace"], d["name"], outputFacets=facets(d.get("outputFacets")))
            for d in event["outputs"]
        ],
    )
    return Serde.to_dict(run_event)


def without(document, drop):
    """``document`` without the facets named in ``drop`` and without empty objects, to compare with the client's."""
    if isinstance(document, dict):
        kept = {k: without(v, drop) for k, v in document.items() if k not in drop}
        return {k: v for k, v in kept.items() if v != {}}
    if isinstance(document, list):
        return [without(value, drop) for value in document]
    return document


def check_required(event):
    """The spec's required fields (RunEvent, Run, Job, datasets, facets), checked by hand."""
    assert event["eventType"] in {"START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"}
    assert "t" in event["eventTime"].lower() and datetime.fromisoformat(event["eventTime"]).tzinfo is not None
    for uri in (event["producer"], event["schemaURL"]):
        assert urlparse(uri).scheme, uri
    assert str(uuid.UUID(event["run"]["runId"])) == event["run"]["runId"]
    assert event["job"]["namespace"] and event["job"]["name"]
    for dataset in event["inputs"] + event["outputs"]:
        assert dataset["namespace"] and dataset["name"]
    everything = [event["run"]["facets"], event["job"]["facets"]]
    everything += [d.get("inputFacets", {}) for d in event["inputs"]] + [
        d.get("outputFacets", {}) for d in event["outputs"]
    ]
    for found in everything:
        for facet in found.values():
            assert urlparse(facet["_producer"]).scheme and urlparse(facet["_schemaURL"]).scheme


def test_a_run_is_a_start_and_a_complete_event_the_client_model_accepts(given, tmp_path):
    run, lineage = given
    write_openlineage(run, lineage, tmp_path / "events.jsonl")
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for event in events:
        check_required(event)
        assert without(rebuilt(event), ()) == without(event, CUSTOM)
    start, end = events
    assert datetime.fromisoformat(start["eventTime"]).timestamp() == pytest.approx(run.started)
    assert datetime.fromisoformat(end["eventTime"]).timestamp() == pytest.approx(run.ended)
    assert start["run"]["runId"] == end["run"]["runId"] == run_uuid(run.id)
    assert start["job"] == end["job"] and end["job"]["name"] == "words_given"


def test_the_datasets_are_the_run_inputs_and_the_unconnected_outputs_with_their_counts(given):
    run, lineage = given
    _, end = openlineage_events(run, lineage)
    (given_lines,) = end["inputs"]
    assert given_lines["name"] == "words_given/SplitWords0/input"
    assert given_lines["inputFacets"]["inputStatistics"]["rowCount"] == 3  # three lines
    (counts,) = end["outputs"]
    assert counts["name"] == "words_given/WordCounter1/output"
    assert counts["outputFacets"]["outputStatistics"]["rowCount"] == 7  # seven distinct words
    instances = end["run"]["facets"]["d4py"]["instances"]
    assert sorted((i["pe"], i["index"]) for i in instances) == [
        ("SplitWords0", 0),
        ("WordCounter1", 0),
        ("WordCounter1", 1),
    ]


def test_the_run_id_is_the_same_uuid_every_time_and_differs_between_runs(given, failed):
    assert run_uuid(given[0].id) == openlineage_events(*given)[0]["run"]["runId"] == run_uuid(given[0].id)
    assert run_uuid(given[0].id) != run_uuid(failed[0].id)


def test_a_failed_run_ends_with_a_fail_event_carrying_the_error(failed):
    run, lineage = failed
    events = openlineage_events(run, lineage)
    assert [e["eventType"] for e in events] == ["START", "FAIL"]
    for event in events:
        check_required(event)
        assert without(rebuilt(event), ()) == without(event, CUSTOM)
    error = events[1]["run"]["facets"]["errorMessage"]
    assert "Fails2" in error["message"] and "ValueError: cannot handle ('dog', 1)" in error["stackTrace"]
    (failure,) = events[1]["run"]["facets"]["d4py"]["failures"]
    assert failure["item"] == "{'input': ('dog', 1)}" and "Fails2" in failure["error"]


def test_events_keep_the_namespace_given(given):
    assert {e["job"]["namespace"] for e in openlineage_events(*given, namespace="lab")} == {"lab"}


@pytest.mark.parametrize(("status", "kinds"), [("interrupted", ["START", "ABORT"]), ("running", ["START"])])
def test_an_interrupted_run_aborts_and_a_running_one_has_only_started(given, status, kinds):
    run, lineage = given
    events = openlineage_events(dataclasses.replace(run, status=status), lineage)
    assert [event["eventType"] for event in events] == kinds
    for event in events:
        check_required(event)
        assert without(rebuilt(event), ()) == without(event, CUSTOM)
