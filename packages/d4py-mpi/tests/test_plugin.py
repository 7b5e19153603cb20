"""Installing d4py-mpi costs nothing to runs on other backends: MPI starts only in a rank."""

import subprocess
import sys

from d4py.plugins import backend_registry


def test_mpi_is_registered_without_starting_mpi():
    probe = (
        "import sys\nfrom d4py import WorkflowGraph, run\nfrom d4py.testing.pes import Numbers\n"
        "graph = WorkflowGraph()\ngraph.add(Numbers(3))\nrun(graph, backend='simple')\n"
        "from d4py.plugins import backend_registry\nassert 'mpi' in backend_registry()\n"
        "print('mpi4py.MPI' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert backend_registry()["mpi"].unavailable_reason() is None
