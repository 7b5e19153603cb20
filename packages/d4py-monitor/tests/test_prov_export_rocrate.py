"""RO-Crate export of a real traced run: a Provenance Run Crate that roc-validator passes, offline.

roc-validator resolves the crate's JSON-LD context over HTTP, through its own
cache, and validates offline from that cache alone. The tests seed the cache
with the RO-Crate 1.1 context document that ro-crate-py (``rocrate`` below
0.16) ships, served by an adapter on the validator's own session, and
refuse every network connection while the validator runs.
"""

from __future__ import annotations

import dataclasses
import json
import socket
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
import rocrate
from prov_fixtures import WORKFLOWS
from requests.adapters import HTTPAdapter
from rocrate.rocrate import ROCrate
from rocrate_validator import models, services
from rocrate_validator.utils.http import HttpRequester
from urllib3 import HTTPResponse

from d4py_monitor.prov.rocrate import CONTEXT, write_ro_crate

PROFILES = {"ro-crate-1.1", "process-run-crate-0.5", "workflow-ro-crate-1.0", "workflow-run-crate-0.5"}
PROFILES |= {"provenance-run-crate-0.5"}
CONTEXT_FILE = Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld"
ACCEPTS = ("application/ld+json, application/json", "application/ld+json, application/json, */*;q=0.1")
COMPLETED, FAILED = "http://schema.org/CompletedActionStatus", "http://schema.org/FailedActionStatus"


class ContextFile(HTTPAdapter):
    """Answers every request with the RO-Crate 1.1 context document from ro-crate-py."""

    def send(self, request, **kwargs):
        body = BytesIO(CONTEXT_FILE.read_bytes())
        headers = {"Content-Type": "application/ld+json"}
        raw = HTTPResponse(body=body, headers=headers, status=200, preload_content=False, request_url=request.url)
        return self.build_response(request, raw)


@pytest.fixture(scope="module")
def validator_cache(tmp_path_factory):
    """roc-validator's HTTP cache, holding the context our crates name (as fetched once, online)."""
    assert f'"@id": "{CONTEXT}"' in CONTEXT_FILE.read_text(), "rocrate >= 0.16 ships another context: pin below it"
    cache = tmp_path_factory.mktemp("roc-validator") / "http_cache"
    requester = HttpRequester.initialize_cache(cache_path=str(cache), cache_max_age=-1, offline=False)
    requester.session.mount(CONTEXT, ContextFile())
    for accept in ACCEPTS:  # the two ways the validator asks for it
        assert requester.get(CONTEXT, headers={"Accept": accept}).status_code == 200
    return cache


@pytest.fixture
def validate(validator_cache, monkeypatch):
    """Validate a crate folder offline as a Provenance Run Crate, failing on any network connection; its issues."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the validator used the network: {args}")

    def run(folder: Path):
        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket, "create_connection", refuse)
        settings = services.ValidationSettings(
            rocrate_uri=str(folder),
            profile_identifier="provenance-run-crate",
            requirement_severity=models.Severity.REQUIRED,
            offline=True,
            cache_path=validator_cache,
            cache_max_age=-1,
        )
        result = services.validate(settings)
        assert {profile.identifier for profile in result.context.profiles} == PROFILES
        assert not result.skipped_checks  # none left out for want of the network
        return [f"{issue.check.identifier}: {issue.message}" for issue in result.get_issues()]

    return run


@pytest.mark.parametrize("traced", ["counted", "given", "sampled", "failed"])
def test_the_crate_validates_offline_as_a_provenance_run_crate(traced, request, validate, tmp_path):
    write_ro_crate(*request.getfixturevalue(traced), tmp_path / "crate")
    assert validate(tmp_path / "crate") == []


def test_the_validator_finds_a_crate_whose_run_names_no_workflow(counted, validate, tmp_path):
    write_ro_crate(*counted, tmp_path / "crate")
    metadata = tmp_path / "crate" / "ro-crate-metadata.json"
    document = json.loads(metadata.read_text())
    (action,) = [entity for entity in document["@graph"] if entity["@id"] == "#run"]
    del action["instrument"]
    metadata.write_text(json.dumps(document))
    issues = validate(tmp_path / "crate")
    assert any("instrument" in issue for issue in issues), issues


def test_the_crate_holds_the_workflow_file_the_runs_times_status_and_results(counted, tmp_path):
    run, lineage = counted
    write_ro_crate(run, lineage, tmp_path / "crate")
    crate = ROCrate(tmp_path / "crate")
    assert crate.mainEntity.id == "words.py"
    assert "ComputationalWorkflow" in crate.mainEntity.type
    assert (tmp_path / "crate" / "words.py").read_bytes() == (WORKFLOWS / "words.py").read_bytes()
    action = crate.get("#run")
    assert action["instrument"] is crate.mainEntity
    assert datetime.fromisoformat(action["startTime"]).timestamp() == pytest.approx(run.started, abs=1e-3)
    assert datetime.fromisoformat(action["endTime"]).timestamp() == pytest.approx(run.ended, abs=1e-3)
    assert action["actionStatus"] == COMPLETED and "error" not in action.properties()
    assert sorted(result["value"] for result in action["result"]) == sorted(r.value for r in lineage.outputs())
    assert len(action["result"]) == 7  # a count per distinct word
    assert (tmp_path / "crate" / "provenance.json").is_file()  # the item-level lineage, as PROV-JSON


def test_the_run_inputs_are_the_object_of_the_run_and_of_the_instance_that_read_them(given, tmp_path):
    run, lineage = given
    write_ro_crate(run, lineage, tmp_path / "crate")
    crate = ROCrate(tmp_path / "crate")
    lines = ["{'input': 'the cat sat'}", "{'input': 'the dog sat down'}", "{'input': 'a cat ran'}"]
    assert [item["value"] for item in crate.get("#run")["object"]] == lines
    assert [item["value"] for item in crate.get("#run/SplitWords0/0")["object"]] == lines
    split = crate.get("#run/SplitWords0/0")
    assert split["instrument"].id == "#pe/SplitWords0" and len(split["result"]) == 10  # a (word, 1) per word


def test_a_failed_run_is_a_failed_action_with_its_error_and_the_instance_that_raised(failed, tmp_path):
    run, lineage = failed
    write_ro_crate(run, lineage, tmp_path / "crate")
    crate = ROCrate(tmp_path / "crate")
    assert crate.get("#run")["actionStatus"] == FAILED
    assert "Fails2" in crate.get("#run")["error"]
    faulty = crate.get("#run/Fails2/0")
    assert faulty["actionStatus"] == FAILED and "('dog', 1)" in faulty["error"]
    assert crate.get("#run/SplitWords1/0")["actionStatus"] == COMPLETED


def test_a_workflow_file_gone_since_the_run_is_named_not_copied(counted, validate, tmp_path):
    run, lineage = counted
    gone = dataclasses.replace(run, workflow={**run.workflow, "source": str(tmp_path / "moved.py")})
    write_ro_crate(gone, lineage, tmp_path / "crate")
    crate = ROCrate(tmp_path / "crate")
    assert crate.mainEntity.id == "#workflow" and "moved.py" in crate.mainEntity["description"]
    assert sorted(p.name for p in (tmp_path / "crate").iterdir()) == ["provenance.json", "ro-crate-metadata.json"]
    issues = validate(tmp_path / "crate")  # Workflow RO-Crate wants the file itself, as docs/provenance-export.md says
    assert issues and all("Main Workflow" in issue for issue in issues), issues


def test_a_secret_in_the_records_options_stays_out_of_the_crate(counted, tmp_path):
    run, lineage = counted
    leaky = dataclasses.replace(run, options={"token": "hunter2", "url": "redis://user:hunter2@host/0"})
    write_ro_crate(leaky, lineage, tmp_path / "crate")
    for path in (tmp_path / "crate").iterdir():
        assert "hunter2" not in path.read_text(), path.name
