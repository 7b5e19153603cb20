"""What the registry finds in a module, and how it describes it."""

import pytest
from conftest import WORKFLOWS

from d4py_registry.describe import describe
from d4py_registry.entry import Port, sha256_of
from d4py_registry.errors import NothingToRegister


@pytest.fixture(scope="module")
def found():
    return describe(str(WORKFLOWS / "textstats.py"), version="1.0")


def by_name(found):
    return {entry.name: entry for entry in found.entries}


def test_finds_pe_classes_function_pes_plain_functions_and_the_workflow(found):
    kinds = {name: entry.kind for name, entry in by_name(found).items()}
    assert kinds == {
        "Sentences": "pe",
        "SplitWords": "pe",
        "CountWords": "pe",
        "Threshold": "pe",
        "word_length": "function",
        "shout": "function",
        "graph": "workflow",
    }


def test_ports_types_and_groupings_are_what_d4py_declares(found):
    entries = by_name(found)
    assert entries["CountWords"].ports == (
        Port("input", "pairs", "tuple[str, int]", "group_by[0]"),
        Port("output", "counts", "tuple[str, int]"),
    )
    assert entries["word_length"].ports == (
        Port("input", "input", "tuple[str, int]", "shuffle"),
        Port("output", "output", "int"),
    )
    assert entries["CountWords"].ports_from == "instance"


def test_a_pe_that_needs_arguments_takes_its_ports_from_the_graph_or_else_its_source(found):
    entries = by_name(found)
    assert entries["Sentences"].ports_from == "graph"
    assert entries["Sentences"].ports == (Port("output", "output"),)
    assert entries["Threshold"].ports_from == "source"
    assert entries["Threshold"].ports == (
        Port("input", "counts", "tuple[str, int]", "global"),
        Port("output", "kept", "tuple[str, int]"),
    )


def test_the_workflow_lists_its_open_outputs_pes_and_connections(found):
    graph = by_name(found)["graph"]
    assert [p.name for p in graph.ports] == ["word_length3.output", "PE_shout4.output"]
    assert graph.details["pes"]["CountWords2"] == "CountWords"
    assert "SplitWords1.pairs -> CountWords2.pairs" in graph.details["connections"]
    assert graph.summary() == "Text statistics: words counted by key, and their lengths."


def test_source_facts_come_from_the_file(found):
    source = (WORKFLOWS / "textstats.py").read_bytes()
    entry = by_name(found)["SplitWords"]
    assert found.source == source and entry.sha256 == sha256_of(source)
    assert (entry.author, entry.licence, entry.imports) == ("Ada Lovelace", "Apache-2.0", ("d4py",))
    assert (entry.namespace, entry.version, entry.doc) == ("textstats", "1.0", "Split sentences into (word, 1) pairs.")


def test_a_module_with_nothing_to_register_is_refused():
    with pytest.raises(NothingToRegister, match="defines no PE class, function PE or workflow graph"):
        describe(str(WORKFLOWS / "nothing.py"))


def test_functions_in_a_chain_are_registered_and_imported_pes_and_composites_are_not(monkeypatch):
    monkeypatch.chdir(WORKFLOWS)
    found = describe("chained")  # a module name, importable from the working folder
    assert {e.name: e.kind for e in found.entries} == {"double": "function", "plus": "function", "graph": "workflow"}
    assert found.entries[0].namespace == "chained" and found.entries[0].doc == "Twice the item."
