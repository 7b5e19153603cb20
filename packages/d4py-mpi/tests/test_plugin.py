"""Installing d4py-mpi costs nothing to runs on other backends: MPI starts only in a rank."""

import subprocess
import sys
from pathlib import Path

from d4py.plugins import backend_registry

STATIONS = Path(__file__).parent / "workflows" / "stations.py"


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


def test_an_in_flight_of_zero_is_refused_before_a_job_could_wait_forever():
    done = subprocess.run(
        [sys.executable, "-m", "d4py", "run", "-b", "mpi", "-o", "in_flight=0", "-n", "2", str(STATIONS)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "in_flight=0" in done.stderr and "use 1 or more" in done.stderr


def test_without_an_mpiexec_the_backend_is_unavailable_and_says_what_to_do(monkeypatch, tmp_path):
    from d4py_mpi.backend import MPIBackend, MPIOptions

    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # no mpiexec beside this Python
    monkeypatch.setenv("PATH", str(tmp_path))  # nor on PATH
    reason = MPIBackend.unavailable_reason()
    assert reason is not None and "no mpiexec beside this Python or on PATH" in reason
    assert "pip install 'd4py-mpi[mpich]'" in reason and "-o mpiexec=PATH" in reason
    assert "no such program" in (MPIBackend.unavailable_reason(MPIOptions(mpiexec="no-such-mpiexec")) or "")
