"""The bundled example workflow, which the README's main job runs."""

from __future__ import annotations

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
