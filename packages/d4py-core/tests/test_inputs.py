"""Run input: -i, -d and -f resolved against the graph's roots."""

from __future__ import annotations

import pytest

from d4py import InputError
from d4py.inputs import parse_input_json, resolve_inputs, run_input_from
from d4py.testing.pes import Echo, Numbers


def _roots():
    producer, echo = Numbers(1), Echo()
    producer.id, echo.id = "Numbers0", "Echo1"
    return producer, echo


def test_default_and_iterations():
    producer, _ = _roots()
    assert resolve_inputs(None, [producer]) == {"Numbers0": [{}]}
    assert resolve_inputs(3, [producer]) == {"Numbers0": [{}, {}, {}]}


def test_mapping_by_name_id_or_object():
    producer, echo = _roots()
    resolved = resolve_inputs({"Echo": [{"input": 1}, 2], producer: 2}, [producer, echo])
    assert resolved == {"Numbers0": [{}, {}], "Echo1": [{"input": 1}, {"input": 2}]}
    assert resolve_inputs({"Echo1": []}, [producer, echo]) == {"Numbers0": [{}], "Echo1": []}


def test_roots_with_inputs_get_nothing_unless_named():
    producer, echo = _roots()
    assert resolve_inputs({"Numbers": 1}, [producer, echo]) == {"Numbers0": [{}], "Echo1": []}


def test_unknown_name_lists_the_roots():
    producer, echo = _roots()
    with pytest.raises(
        InputError, match="unknown PE 'Nope'; the roots of this graph are: Echo, Echo1, Numbers, Numbers0"
    ):
        resolve_inputs({"Nope": 1}, [producer, echo])


def test_ambiguous_name_asks_for_an_id():
    a, b = Numbers(1), Numbers(1)
    a.id, b.id = "Numbers0", "Numbers1"
    with pytest.raises(InputError, match="matches several roots"):
        resolve_inputs({"Numbers": 1}, [a, b])


def test_bad_values():
    producer, echo = _roots()
    with pytest.raises(InputError, match="whole number"):
        resolve_inputs({"Numbers": -1}, [producer])
    with pytest.raises(InputError, match="unknown port 'inptu'"):
        resolve_inputs({"Echo": [{"inptu": 1}]}, [echo])
    with pytest.raises(InputError, match="list of dicts"):
        resolve_inputs({"Numbers": [5]}, [producer])
    with pytest.raises(InputError, match="invalid JSON"):
        parse_input_json("[1,")


def test_input_for_an_inner_pe_says_it_is_not_a_root():
    producer, echo = _roots()
    with pytest.raises(InputError, match="PE 'Echo1', which is not a root: its inputs are connected"):
        resolve_inputs({"Echo": 1}, [producer], [echo])


def test_run_input_from_the_command_line_options(tmp_path):
    (tmp_path / "input.json").write_text('{"Numbers": 2}')
    assert run_input_from(3, None, None) == 3
    assert run_input_from(None, '{"Numbers": [1]}', None) == {"Numbers": [1]}
    assert run_input_from(None, None, tmp_path / "input.json") == {"Numbers": 2}
    assert run_input_from(None, None, None) is None
    with pytest.raises(InputError, match="give at most one of -i, -d and -f"):
        run_input_from(1, "{}", None)


def test_an_iterative_root_called_without_its_item_is_refused_before_the_run():
    from d4py.testing.pes import Pass

    root = Pass()
    with pytest.raises(InputError, match=r"PE 'Pass\d*' is a root that reads its input 'input'.*-d"):
        resolve_inputs(None, [root])
    assert resolve_inputs({root: [1, 2]}, [root]) == {root.id: [{"input": 1}, {"input": 2}]}
