"""Installing d4py-spark costs nothing to runs on other backends: pyspark loads only for a spark run."""

import subprocess
import sys


def test_spark_is_registered_without_importing_pyspark():
    probe = (
        "import sys\nfrom d4py import WorkflowGraph, run\nfrom d4py.testing.pes import Numbers\n"
        "graph = WorkflowGraph()\ngraph.add(Numbers(3))\nrun(graph, backend='simple')\n"
        "from d4py.plugins import backend_registry\nassert 'spark' in backend_registry()\n"
        "print('pyspark' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
