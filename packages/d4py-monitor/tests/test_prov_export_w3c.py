"""W3C PROV export of a real traced run: PROV-JSON and PROV-N that the prov package reads back whole."""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
from collections import Counter

import pytest
from prov.model import (
    ProvActivity,
    ProvAgent,
    ProvDerivation,
    ProvDocument,
    ProvEntity,
    ProvGeneration,
    ProvRelation,
    ProvUsage,
)
from prov_fixtures import WORKFLOWS

from d4py import UsageError
from d4py_monitor.prov.facts import file_sha256
from d4py_monitor.prov.model import RunLineage
from d4py_monitor.prov.w3c import prov_document, write_prov

LINES = ["the cat sat", "the dog sat down", "a cat ran"]  # workflows/words.py


def attribute(record, name):
    """The one value of attribute ``d4py:NAME`` (or ``prov:NAME``) of ``record``, None if it has none."""
    values = [value for key, value in record.attributes if key.localpart == name]
    return values[0] if values else None


def formal(record, name):
    """The value of the formal attribute ``prov:NAME`` of a relation (``entity``, ``activity``, ...)."""
    return next(value for key, value in record.formal_attributes if key.localpart == name)


def derivations(document):
    """Entity id -> the ids it was derived from."""
    parents = {}
    for record in document.get_records(ProvDerivation):
        parents.setdefault(formal(record, "generatedEntity"), set()).add(formal(record, "usedEntity"))
    return parents


def check_constraints(document):
    """Some PROV-CONSTRAINTS, checked by hand: no validator of them installs here.

    Every relation names records the document declares; an entity is generated
    once at most; derivations have no cycle; an activity starts before it ends.
    """
    kinds = {ProvEntity: set(), ProvActivity: set(), ProvAgent: set()}
    for kind, names in kinds.items():
        names.update(record.identifier for record in document.get_records(kind))
    entities, activities, agents = kinds[ProvEntity], kinds[ProvActivity], kinds[ProvAgent]
    expected = {"entity": entities, "generatedEntity": entities, "usedEntity": entities, "collection": entities}
    expected |= {"activity": activities, "starter": activities, "ender": activities, "agent": agents, "plan": entities}
    generated = Counter()
    for relation in document.get_records(ProvRelation):
        for key, value in relation.formal_attributes:
            if value is not None and key.localpart in expected:
                assert value in expected[key.localpart], (relation, key.localpart)
        if isinstance(relation, ProvGeneration):
            generated[formal(relation, "entity")] += 1
    assert generated and max(generated.values()) == 1
    parents, state = derivations(document), {}

    def visit(node):  # depth first: a node met again while still open closes a cycle
        assert state.get(node) != "open", f"derivation cycle through {node}"
        if state.get(node) is None:
            state[node] = "open"
            for parent in parents.get(node, ()):
                visit(parent)
            state[node] = "done"

    for node in parents:
        visit(node)
    for activity in document.get_records(ProvActivity):
        if activity.get_startTime() and activity.get_endTime():
            assert activity.get_startTime() <= activity.get_endTime()


@pytest.mark.parametrize("traced", ["counted", "sampled", "failed"])
def test_the_documents_keep_the_prov_constraints_checked_here(traced, request):
    check_constraints(prov_document(*request.getfixturevalue(traced)))


def test_each_word_count_derives_from_exactly_the_lines_it_counts(counted, tmp_path):
    run, lineage = counted
    write_prov(run, lineage, tmp_path / "run.json", "prov-json")
    document = ProvDocument.deserialize(tmp_path / "run.json", format="json")
    entities = {record.identifier: record for record in document.get_records(ProvEntity)}
    parents = derivations(document)
    outputs = [e for e in entities.values() if str(attribute(e, "type")) == "d4py:Output"]
    assert sorted(attribute(e, "value") for e in outputs) == sorted(r.value for r in lineage.outputs())
    assert len(outputs) == 7  # the, cat, sat, dog, down, a, ran
    for output in outputs:
        word, _ = ast.literal_eval(attribute(output, "value"))  # the preview of a (word, count) tuple
        found, stack = set(), [output.identifier]
        while stack:
            current = stack.pop()
            if attribute(entities[current], "pe") == "Lines0" and attribute(entities[current], "port") == "output":
                found.add(attribute(entities[current], "value"))
            stack.extend(parents.get(current, ()))
        assert found == {repr(line) for line in LINES if word in line.split()}, word


def test_a_sampled_run_derives_each_kept_count_from_the_kept_lines_only(sampled, tmp_path):
    run, lineage = sampled
    assert lineage.level == "sampled"
    kept = [ast.literal_eval(r.value)["input"] for r in lineage.items.values() if r.port == ""]
    assert 0 < len(kept) < len(LINES) and set(kept) < set(LINES)  # some of the lines' chains, not all
    write_prov(run, lineage, tmp_path / "run.json", "prov-json")
    document = ProvDocument.deserialize(tmp_path / "run.json", format="json")
    assert document == prov_document(run, lineage)
    entities = {record.identifier: record for record in document.get_records(ProvEntity)}
    parents = derivations(document)
    assert set().union(*parents.values()) <= set(entities)  # no relation names an item the run did not keep
    for output in (e for e in entities.values() if str(attribute(e, "type")) == "d4py:Output"):
        word, _ = ast.literal_eval(attribute(output, "value"))
        found, stack = set(), [output.identifier]
        while stack:
            current = stack.pop()
            if str(attribute(entities[current], "type")) == "d4py:RunInput":
                found.add(ast.literal_eval(attribute(entities[current], "value"))["input"])
            stack.extend(parents.get(current, ()))
        assert found == {line for line in kept if word in line.split()}, word


def test_prov_json_and_prov_n_read_back_equal_to_the_document(counted, tmp_path):
    run, lineage = counted
    document = prov_document(run, lineage)
    write_prov(run, lineage, tmp_path / "run.json", "prov-json")
    write_prov(run, lineage, tmp_path / "run.provn", "prov-n")
    assert ProvDocument.deserialize(tmp_path / "run.json", format="json") == document
    assert ProvDocument.deserialize(tmp_path / "run.provn", format="provn") == document
    text = (tmp_path / "run.provn").read_text()
    for item_id, record in lineage.items.items():
        assert f"entity(run:item/{item_id}, " in text or f"collection(run:item/{item_id}" in text, record
    assert "\"('cat', 2)\"" in text  # previews are readable in the PROV-N


def test_the_run_follows_the_workflow_file_and_keeps_its_times(counted):
    run, lineage = counted
    document = prov_document(run, lineage)
    (run_activity,) = [a for a in document.get_records(ProvActivity) if a.identifier.localpart == "run"]
    assert run_activity.get_startTime().timestamp() == pytest.approx(run.started)
    assert run_activity.get_endTime().timestamp() == pytest.approx(run.ended)
    assert attribute(run_activity, "status") == "ok"
    (plan,) = [e for e in document.get_records(ProvEntity) if e.identifier.localpart == "workflow"]
    assert attribute(plan, "source") == str(WORKFLOWS / "words.py")
    assert attribute(plan, "sha256") == file_sha256(WORKFLOWS / "words.py")
    instances = {a.identifier.localpart for a in document.get_records(ProvActivity)} - {"run"}
    assert instances == {
        "instance/Lines0/0",
        "instance/SplitWords1/0",
        "instance/WordCounter2/0",
        "instance/WordCounter2/1",
    }


def test_a_failed_call_is_an_activity_with_its_error_that_used_its_input(failed):
    run, lineage = failed
    assert run.status == "failed"
    document = prov_document(run, lineage)
    (failure,) = [a for a in document.get_records(ProvActivity) if a.identifier.localpart.startswith("failure/")]
    assert "Fails2" in attribute(failure, "error") and attribute(failure, "value") == "{'input': ('dog', 1)}"
    (dog,) = [
        formal(u, "entity") for u in document.get_records(ProvUsage) if formal(u, "activity") == failure.identifier
    ]
    entities = {e.identifier: e for e in document.get_records(ProvEntity)}
    assert attribute(entities[dog], "value") == "('dog', 1)"
    assert "run:failure/1" in document.serialize(format="provn").split("wasEndedBy(run:run, -, ")[1]


def test_an_unknown_format_is_one_line_naming_the_formats(counted, tmp_path):
    with pytest.raises(UsageError, match=re.escape("PROV format 'turtle': give one of prov-json, prov-n")):
        write_prov(*counted, tmp_path / "run.ttl", "turtle")


def test_a_secret_in_the_records_options_stays_out(counted, tmp_path):
    run, lineage = counted
    leaky = dataclasses.replace(run, options={"password": "hunter2", "url": "redis://user:hunter2@host/0"})
    write_prov(leaky, lineage, tmp_path / "run.provn", "prov-n")
    assert "hunter2" not in (tmp_path / "run.provn").read_text()


def test_an_items_metadata_are_attributes_that_read_back(counted, tmp_path):
    run, lineage = counted
    first = lineage.outputs()[0]
    described = {"station": "AQU", "depth km": 12.5, "tags": ["a", "b"], "checked": True}
    items = {**lineage.items, first.id: dataclasses.replace(first, metadata=described)}
    lineage = RunLineage(lineage.run_id, lineage.level, lineage.share, items, lineage.failures)
    write_prov(run, lineage, tmp_path / "run.provn", "prov-n")
    document = ProvDocument.deserialize(tmp_path / "run.provn", format="provn")
    assert document == prov_document(run, lineage)
    (entity,) = [e for e in document.get_records(ProvEntity) if e.identifier.localpart == f"item/{first.id}"]
    assert attribute(entity, "metadata.station") == "AQU"
    assert attribute(entity, "metadata.depth%20km") == 12.5
    assert attribute(entity, "metadata.tags") == '["a", "b"]'
    assert attribute(entity, "metadata.checked") is True


def test_without_the_prov_package_the_export_says_how_to_install_it(counted, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "prov.model", None)  # as if not installed: importing it raises
    with pytest.raises(UsageError, match=re.escape("needs the prov package: pip install 'd4py-monitor[prov]'")):
        write_prov(*counted, tmp_path / "run.provn", "prov-n")
    assert not (tmp_path / "run.provn").exists()
