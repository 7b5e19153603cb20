"""The bundled example workflow, which the README's main job runs."""

from __future__ import annotations

import ast

from d4py import run
from d4py.examples import station_stats as example
from d4py.loader import load_workflow


def test_station_stats_reports_every_station_with_all_its_readings():
    graph = load_workflow("d4py.examples.station_stats")
    rows = run(graph, 3, check_types=True).all_items()
    assert [row["station"] for row in rows] == example.STATIONS
    assert all(row["readings"] == 3 * example.SAMPLES for row in rows)


def test_detections_match_a_plain_python_count():
    rows = run(load_workflow("d4py.examples.station_stats"), 2).all_items()
    source = example.Stations()
    readings = []
    source._emitters = {"output": readings.append}
    for _ in range(2):
        source._process({})
    expected = {}
    for station, _, counts in readings:
        if abs(counts * 0.1) > example.THRESHOLD:
            expected[station] = expected.get(station, 0) + 1
    assert {row["station"]: row["detections"] for row in rows if row["detections"]} == expected
    assert sum(expected.values()) > 0


def test_the_word_count_example_traces_each_total_to_exactly_the_lines_that_hold_its_word():
    from d4py.testing.observing import LineageWatch

    lines = ["the quick brown fox", "the lazy dog", "a quick dog", "fox and dog"]
    graph = load_workflow("d4py.examples.wordcount")
    watch = LineageWatch()
    result = run(graph, {"Split": lines}, processes=4, plugins=[watch])
    totals = dict(result.all_items())
    assert totals == {"the": 2, "quick": 2, "brown": 1, "fox": 2, "lazy": 1, "dog": 3, "a": 1, "and": 1}
    for _, item, roots in watch.explain():
        word = ast.literal_eval(item)[0]
        assert [root for _, root in roots] == sorted(repr({"input": line}) for line in lines if word in line.split())
