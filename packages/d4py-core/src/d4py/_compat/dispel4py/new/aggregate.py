"""dispel4py.new.aggregate, served by d4py: count, sum, min, max, average and standard deviation.

Each ``parallelX()`` returns a composite of two PEs, map-reduce style: any
number of instances of the first aggregate what they receive, and one
``'global'`` instance of the second combines their partial results. The
names, ports and output layouts are 1.x's. One difference: 1.x's
``StdDevReducePE`` read the wrong fields of the partial results (the
deviation as the count, the count as the sum); here it reads ``(std_dev,
count, sum, sum_squared)`` as ``StdDevPE`` writes them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from d4py._compat.dispel4py.core import GenericPE
from d4py.graph import WorkflowGraph

__all__ = [
    "AggregatePE",
    "AverageParallelPE",
    "AverageReducePE",
    "ContinuousReducePE",
    "CountPE",
    "MaxPE",
    "MinPE",
    "StdDevPE",
    "StdDevReducePE",
    "SumPE",
    "parallelAvg",
    "parallelCount",
    "parallelMax",
    "parallelMin",
    "parallelStdDev",
    "parallelSum",
    "parallel_aggregate",
]


class _OneInOneOut(GenericPE):
    """An ``input`` and an ``output`` port, as every aggregation PE of 1.x has."""

    INPUT_NAME = "input"
    OUTPUT_NAME = "output"

    def __init__(self, grouping: str | None = None) -> None:
        super().__init__()
        self._add_input(self.INPUT_NAME, grouping=grouping)
        self._add_output(self.OUTPUT_NAME)


class _Fields(_OneInOneOut):
    """Keeps ``value``, one entry per index of the incoming tuples."""

    def __init__(self, indexes: list[int] | None = None) -> None:
        super().__init__()
        self.indexes = [0] if indexes is None else list(indexes)
        self.value: list[Any] = [0] * len(self.indexes)


class AggregatePE(_Fields):
    """Aggregates fields ``indexes`` of every item into ``value`` and writes it at the end."""

    def _combine(self, inputs: dict[str, Any], merge: Callable[[Any, Any], Any]) -> None:
        item = inputs[self.INPUT_NAME]
        self.value = [merge(self.value[k], item[i]) for k, i in enumerate(self.indexes)]

    def _postprocess(self) -> None:
        self.write(self.OUTPUT_NAME, self.value)


class ContinuousReducePE(_Fields):
    """Writes ``value`` after every item; subclasses define ``_process(item)`` to update it."""

    def process(self, inputs: dict[str, Any]) -> None:
        self._process(inputs[self.INPUT_NAME])
        self.write(self.OUTPUT_NAME, list(self.value))


class CountPE(AggregatePE):
    def __init__(self) -> None:
        super().__init__([0])

    def _process(self, inputs: dict[str, Any]) -> None:
        self.value = [self.value[0] + 1]


class SumPE(AggregatePE):
    def _process(self, inputs: dict[str, Any]) -> None:
        self._combine(inputs, lambda total, value: total + value)


class _ExtremePE(AggregatePE):
    """Keeps, per field, the value ``_better`` chooses; None until the first item."""

    def __init__(self, indexes: list[int] | None = None) -> None:
        super().__init__(indexes)
        self.value = [None] * len(self.indexes)

    def _better(self, best: Any, value: Any) -> Any:
        raise NotImplementedError

    def _process(self, inputs: dict[str, Any]) -> None:
        self._combine(inputs, lambda best, value: value if best is None else self._better(best, value))


class MaxPE(_ExtremePE):
    def _better(self, best: Any, value: Any) -> Any:
        return max(best, value)


class MinPE(_ExtremePE):
    def _better(self, best: Any, value: Any) -> Any:
        return min(best, value)


class AverageParallelPE(_OneInOneOut):
    """Partial average of field ``index``: writes ``[average, count, sum]`` at the end."""

    def __init__(self, index: int = 0) -> None:
        super().__init__()
        self.index, self.sum, self.count = index, 0, 0

    def _process(self, inputs: dict[str, Any]) -> None:
        self.sum += inputs[self.INPUT_NAME][self.index]
        self.count += 1

    def _postprocess(self) -> None:
        if self.count:
            self.write(self.OUTPUT_NAME, [self.sum / self.count, self.count, self.sum])


class AverageReducePE(_OneInOneOut):
    """Combines ``[average, count, sum]`` partials into the overall ``[average, count, sum]``."""

    def __init__(self) -> None:
        super().__init__(grouping="global")
        self.sum, self.count = 0, 0

    def _process(self, inputs: dict[str, Any]) -> None:
        _, count, total = inputs[self.INPUT_NAME]
        self.count += count
        self.sum += total

    def _postprocess(self) -> None:
        if self.count:
            self.write(self.OUTPUT_NAME, [self.sum / self.count, self.count, self.sum])


def _std_dev(count: int, total: float, squares: float) -> float:
    """The sample standard deviation of ``count`` values, from their sum and sum of squares."""
    if count < 2:
        return 0.0
    return math.sqrt(max(0.0, (count * squares - total * total) / (count * (count - 1))))


class StdDevPE(_OneInOneOut):
    """Partial statistics of field ``index``: writes ``(std_dev, count, sum, sum_squared)`` at the end."""

    def __init__(self, index: int = 0) -> None:
        super().__init__()
        self.index, self.sum, self.sum_squared, self.count = index, 0, 0, 0

    def _process(self, inputs: dict[str, Any]) -> None:
        value = inputs[self.INPUT_NAME][self.index]
        self.sum += value
        self.sum_squared += value * value
        self.count += 1

    def _postprocess(self) -> None:
        if self.count:
            deviation = _std_dev(self.count, self.sum, self.sum_squared)
            self.write(self.OUTPUT_NAME, (deviation, self.count, self.sum, self.sum_squared))


class StdDevReducePE(_OneInOneOut):
    """Combines ``(std_dev, count, sum, sum_squared)`` partials into the overall statistics, same layout."""

    def __init__(self) -> None:
        super().__init__(grouping="global")
        self.sum, self.sum_squared, self.count = 0, 0, 0

    def _process(self, inputs: dict[str, Any]) -> None:
        _, count, total, squares = inputs[self.INPUT_NAME]
        self.count += count
        self.sum += total
        self.sum_squared += squares

    def _postprocess(self) -> None:
        if self.count:
            deviation = _std_dev(self.count, self.sum, self.sum_squared)
            self.write(self.OUTPUT_NAME, (deviation, self.count, self.sum, self.sum_squared))


def parallel_aggregate(instPE: GenericPE, reducePE: GenericPE) -> WorkflowGraph:  # noqa: N803 - 1.x names
    """A composite: ``instPE`` (any number of instances) into one ``'global'`` ``reducePE``."""
    reducePE.inputconnections[AggregatePE.INPUT_NAME]["grouping"] = "global"
    reducePE.numprocesses = 1
    composite = WorkflowGraph()
    composite.connect(instPE, AggregatePE.OUTPUT_NAME, reducePE, AggregatePE.INPUT_NAME)
    composite.inputmappings = {"input": (instPE, AggregatePE.INPUT_NAME)}
    composite.outputmappings = {"output": (reducePE, AggregatePE.OUTPUT_NAME)}
    return composite


def parallelCount() -> WorkflowGraph:  # noqa: N802 - 1.x name
    """Count the items; the output is ``[count]``."""
    reduce = SumPE([0])
    reduce.name = "CountReduce"
    return parallel_aggregate(CountPE(), reduce)


def _fields(indexes: list[int] | None) -> list[int]:
    """The positions of the partial results a reducer combines: one per aggregated field."""
    return list(range(len(indexes or [0])))


def parallelSum(indexes: list[int] | None = None) -> WorkflowGraph:  # noqa: N802 - 1.x name
    """Sum fields ``indexes`` (default ``[0]``) of the items; the output is one sum per field."""
    return parallel_aggregate(SumPE(indexes), SumPE(_fields(indexes)))


def parallelMin(indexes: list[int] | None = None) -> WorkflowGraph:  # noqa: N802 - 1.x name
    """The least value of fields ``indexes`` (default ``[0]``); one per field."""
    return parallel_aggregate(MinPE(indexes), MinPE(_fields(indexes)))


def parallelMax(indexes: list[int] | None = None) -> WorkflowGraph:  # noqa: N802 - 1.x name
    """The greatest value of fields ``indexes`` (default ``[0]``); one per field."""
    return parallel_aggregate(MaxPE(indexes), MaxPE(_fields(indexes)))


def parallelAvg(index: int = 0) -> WorkflowGraph:  # noqa: N802 - 1.x name
    """The average of field ``index``; the output is ``[average, count, sum]``."""
    return parallel_aggregate(AverageParallelPE(index), AverageReducePE())


def parallelStdDev(index: int = 0) -> WorkflowGraph:  # noqa: N802 - 1.x name
    """The sample standard deviation of field ``index``; the output is ``(std_dev, count, sum, sum_squared)``."""
    return parallel_aggregate(StdDevPE(index), StdDevReducePE())
