"""Rapid assessment on ObsPy's bundled real recording: peak ground motion, GeoJSON and a map.

    d4py run d4py_seismo.workflows.rapid_assessment

Station BW.RJOB's three channels (30 s at 100 Hz, as shipped with ObsPy) with
their instrument responses: PGA, PGV and PGD per station go to
``assessment-results/peak-motion.geojson`` and ``peak-motion.png``. For your
own event, copy this file and give ``ReadWaveforms`` your files and inventory.
"""

from __future__ import annotations

from obspy import read, read_inventory

from d4py import WorkflowGraph
from d4py_seismo import ReadWaveforms
from d4py_seismo.assessment import PeakGroundMotion, WriteAssessment

inventory = read_inventory()
graph = WorkflowGraph()
peaks = PeakGroundMotion(inventory=inventory, pre_filt=(0.5, 1.0, 40.0, 45.0))
graph.connect(ReadWaveforms(read(), inventory=inventory), "output", peaks, "input")
graph.connect(peaks, "output", WriteAssessment("assessment-results"), "input")
