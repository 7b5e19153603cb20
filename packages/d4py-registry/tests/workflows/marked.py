"""A PE whose module notes each process that imports it, in the file $D4PY_TEST_MARKER."""

import os

from d4py import IterativePE

with open(os.environ["D4PY_TEST_MARKER"], "a") as marker:
    marker.write(f"{os.getpid()}\n")


class Echo(IterativePE):
    """Emit each item unchanged."""

    def _process(self, data):
        return data
