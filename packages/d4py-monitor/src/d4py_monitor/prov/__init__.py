"""Provenance: the lineage of every item of a traced run, kept beside its run record (see docs/provenance.md).

``d4py.run(graph, plugins=[Provenance("full")])`` keeps a run's lineage;
``d4py run --provenance full`` does the same from the command line.
"""

from d4py_monitor.prov.plugin import Provenance

__all__ = ["Provenance"]
