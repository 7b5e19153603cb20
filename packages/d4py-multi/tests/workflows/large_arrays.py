"""A producer refills one 1 MiB array for each item; two instances check what they get and where it lies."""

import os
from typing import Any

import numpy as np

from d4py import IterativePE, ProducerPE, WorkflowGraph

ITEMS = 12


class Refill(ProducerPE):
    def _process(self, inputs: Any) -> None:
        array = np.empty(1 << 17)  # 1 MiB of float64, refilled for every item after it is written
        for number in range(ITEMS):
            array[:] = number
            self.write("output", (number, os.getpid(), array))


class Check(IterativePE):
    def _process(self, data: Any) -> tuple[int, bool, bool, bool]:
        number, producer, array = data
        return number, bool((array == number).all()), os.getpid() != producer, _in_region(array)


def _in_region(array: Any) -> bool:
    """Whether the array's memory is mapped from a d4py region (the sender's memory file)."""
    start = array.__array_interface__["data"][0]
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "d4py-region" in line:
                low, high = (int(bound, 16) for bound in line.split()[0].split("-"))
                if low <= start < high:
                    return True
    return False


graph = WorkflowGraph()
check = Check()
check.numprocesses = 2
graph.connect(Refill(), "output", check, "input")
