"""PEs used by the conformance scenarios; module-level so every backend can pickle them."""

from __future__ import annotations

import os
import signal
import sys
import threading
import uuid
from typing import Any

from d4py.pe import ConsumerPE, GenericPE, IterativePE, ProducerPE


class Numbers(ProducerPE):
    """Write ``start .. start+count-1`` on each call."""

    def __init__(self, count: int, start: int = 0) -> None:
        super().__init__()
        self.count, self.start = count, start

    def _process(self, inputs: dict[str, Any]) -> None:
        for i in range(self.start, self.start + self.count):
            self.write("output", i)


class Indexed(ProducerPE):
    """Write ``(instance_index, i)`` for ``i`` in ``0 .. count-1`` on each call."""

    def __init__(self, count: int, numprocesses: int = 1) -> None:
        super().__init__()
        self.count, self.numprocesses = count, numprocesses

    def _process(self, inputs: dict[str, Any]) -> None:
        for i in range(self.count):
            self.write("output", (self.instance_index, i))


class Words(ProducerPE):
    """Write each of ``words`` on each call."""

    def __init__(self, words: list[str]) -> None:
        super().__init__()
        self.words = words

    def _process(self, inputs: dict[str, Any]) -> None:
        for word in self.words:
            self.write("output", word)


class Lines(ProducerPE):
    """Write each of ``lines`` on each call."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def _process(self, inputs: dict[str, Any]) -> None:
        for line in self.lines:
            self.write("output", line)


class SplitWords(IterativePE):
    """Write ``(word, 1)`` for each word of each line."""

    def _process(self, line: str) -> None:
        for word in line.split():
            self.write("output", (word, 1))


class WordCounter(GenericPE):
    """Count ``(word, n)`` items per word; emit ``(word, total)`` per word, derived from that word's items only."""

    def __init__(self, numprocesses: int = 1) -> None:
        super().__init__(numprocesses)
        self._add_input("input", grouping=[0])
        self._add_output("output")

    def _preprocess(self) -> None:
        self.counts: dict[str, int] = {}

    def _process(self, inputs: dict[str, Any]) -> None:
        word, n = inputs["input"]
        self.counts[word] = self.counts.get(word, 0) + n
        self.note_input(word)

    def _postprocess(self) -> None:
        for word, total in sorted(self.counts.items()):
            self.write_derived("output", (word, total), word)


class Add(IterativePE):
    def __init__(self, amount: int) -> None:
        super().__init__()
        self.amount = amount

    def _process(self, data: Any) -> Any:
        return data + self.amount


class Multiply(IterativePE):
    def __init__(self, factor: int) -> None:
        super().__init__()
        self.factor = factor

    def _process(self, data: Any) -> Any:
        return data * self.factor


class Pass(IterativePE):
    """Emit each item unchanged."""

    def _process(self, data: Any) -> Any:
        return data


class Pair(IterativePE):
    """Emit ``(word, 1)``: the key first, for group_by [0]."""

    def _process(self, data: Any) -> Any:
        return (data, 1)


class Tagged(GenericPE):
    """Emit ``(item, token)``; ``token`` is unique to the instance."""

    def __init__(self, grouping: Any = None, numprocesses: int = 1) -> None:
        super().__init__(numprocesses)
        self._add_input("input", grouping=grouping)
        self._add_output("output")

    def _preprocess(self) -> None:
        self.token = uuid.uuid4().hex

    def _process(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"output": (inputs["input"], self.token)}


class KeyCounter(GenericPE):
    """Count items per key; in postprocess emit ``(key, count, token)`` per key seen."""

    def __init__(self, grouping: Any, numprocesses: int = 1) -> None:
        super().__init__(numprocesses)
        self._add_input("input", grouping=grouping)
        self._add_output("output")

    def _preprocess(self) -> None:
        self.token = uuid.uuid4().hex
        self.counts: dict[Any, int] = {}

    def _process(self, inputs: dict[str, Any]) -> None:
        key = inputs["input"][0]
        self.counts[key] = self.counts.get(key, 0) + 1

    def _postprocess(self) -> None:
        for key, count in sorted(self.counts.items()):
            self.write("output", (key, count, self.token))


class Summary(GenericPE):
    """Count and sum what arrives; in postprocess emit ``(count, total, token)`` once."""

    def __init__(self, grouping: Any = None, numprocesses: int = 1) -> None:
        super().__init__(numprocesses)
        self._add_input("input", grouping=grouping)
        self._add_output("output")

    def _preprocess(self) -> None:
        self.token = uuid.uuid4().hex
        self.count = 0
        self.total: Any = 0

    def _process(self, inputs: dict[str, Any]) -> None:
        self.count += 1
        self.total = self.total + _checksum(inputs["input"])

    def _postprocess(self) -> None:
        self.write("output", (self.count, self.total, self.token))


class Total(GenericPE):
    """Count and sum the numbers that arrive; in postprocess emit ``(count, total)`` once."""

    def __init__(self, grouping: Any = None, numprocesses: int = 1) -> None:
        super().__init__(numprocesses)
        self._add_input("input", grouping=grouping)
        self._add_output("output")

    def _preprocess(self) -> None:
        self.count = self.total = 0

    def _process(self, inputs: dict[str, Any]) -> None:
        self.count += 1
        self.total += inputs["input"]

    def _postprocess(self) -> None:
        self.write("output", (self.count, self.total))


def _checksum(item: Any) -> Any:
    total = getattr(item, "sum", None)  # NumPy arrays are summed
    return float(total()) if callable(total) else item


class Split(GenericPE):
    """Write even numbers to ``even`` and odd numbers to ``odd``."""

    def __init__(self) -> None:
        super().__init__()
        self._add_input("input")
        self._add_output("even")
        self._add_output("odd")

    def _process(self, inputs: dict[str, Any]) -> None:
        n = inputs["input"]
        self.write("even" if n % 2 == 0 else "odd", n)


class Merge(GenericPE):
    """Tag each item with the port it arrived on."""

    def __init__(self) -> None:
        super().__init__()
        self._add_input("left")
        self._add_input("right")
        self._add_output("output")

    def _process(self, inputs: dict[str, Any]) -> dict[str, Any]:
        ((port, item),) = inputs.items()
        return {"output": (port, item)}


class Lifecycle(GenericPE):
    """Record the lifecycle: emits ``(preprocess calls, items, postprocess calls)`` at the end."""

    def __init__(self, numprocesses: int = 1) -> None:
        super().__init__(numprocesses)
        self._add_input("input")
        self._add_output("output")
        self.pre = self.items = 0

    def _preprocess(self) -> None:
        self.pre += 1

    def _process(self, inputs: dict[str, Any]) -> None:
        if self.pre != 1:
            raise AssertionError("process() called before preprocess()")
        self.items += 1

    def _postprocess(self) -> None:
        self.write("output", ("lifecycle", self.pre, self.items))


class Echo(GenericPE):
    """A root with an input port: emits what the run input gives it, doubled."""

    def __init__(self) -> None:
        super().__init__()
        self._add_input("input")
        self._add_output("output")

    def _process(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"output": inputs["input"] * 2}


class Arrays(ProducerPE):
    """Write ``count`` float64 arrays of ``size`` elements, the i-th filled with i.

    With ``refill``, one buffer is filled again before each write, as a PE reading records into it would.
    """

    def __init__(self, count: int, size: int, refill: bool = False) -> None:
        super().__init__()
        self.count, self.size, self.refill = count, size, refill

    def _process(self, inputs: dict[str, Any]) -> None:
        import numpy as np

        buffer = np.empty(self.size)
        for i in range(self.count):
            if self.refill:
                buffer[:] = float(i)
                self.write("output", buffer)
            else:
                self.write("output", np.full(self.size, float(i)))


class Pairs(ProducerPE):
    """Write ``(a, b, array_a, array_b)`` for every pair of ``stations`` arrays, the i-th filled with i.

    Each array is in ``stations - 1`` items, as spectra are when a PE forms every station pair.
    """

    def __init__(self, stations: int, size: int) -> None:
        super().__init__()
        self.stations, self.size = stations, size

    def _process(self, inputs: dict[str, Any]) -> None:
        import numpy as np

        arrays = [np.full(self.size, float(i)) for i in range(self.stations)]
        for a in range(self.stations):
            for b in range(a + 1, self.stations):
                self.write("output", (a, b, arrays[a], arrays[b]))


class PairSums(IterativePE):
    """Return ``(a, b, sum of both arrays)`` for each pair."""

    def __init__(self, numprocesses: int = 1) -> None:
        super().__init__()
        self.numprocesses = numprocesses

    def _process(self, data: Any) -> Any:
        a, b, first, second = data
        return (a, b, float(first.sum() + second.sum()))


class Rewrites(GenericPE):
    """Keep every array received; write each one twice, the odd ones a third time after adding 1000 in place,
    and the one before again, as a pair-forming PE writes what it keeps."""

    def __init__(self) -> None:
        super().__init__()
        self._add_input("input", grouping="global")
        self._add_output("output")
        self.kept: list[Any] = []

    def _process(self, inputs: dict[str, Any]) -> None:
        array = inputs["input"]
        self.write("output", array)
        self.write("output", array)
        if int(array[0]) % 2:
            array += 1000
            self.write("output", array)
        if self.kept:
            self.write("output", self.kept[-1])
        self.kept.append(array)


class Ends(IterativePE):
    """Return an array's first and last values."""

    def __init__(self, numprocesses: int = 1) -> None:
        super().__init__()
        self.numprocesses = numprocesses

    def _process(self, data: Any) -> Any:
        return (float(data[0]), float(data[-1]))


class Blocks(IterativePE):
    """Say "ready" on stderr at the first item, then block until the process is stopped (for Ctrl-C tests)."""

    def _process(self, data: Any) -> Any:
        print("ready", file=sys.stderr, flush=True)
        threading.Event().wait()
        return data


class KillsItsProcess(IterativePE):
    """SIGKILL the process running it on the item equal to ``at``, as the OOM killer would."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def _process(self, data: Any) -> Any:
        if data == self.at:
            os.kill(os.getpid(), signal.SIGKILL)
        return data


class Fails(IterativePE):
    """Raise on the item equal to ``bad``."""

    def __init__(self, bad: int) -> None:
        super().__init__()
        self.bad = bad

    def _process(self, data: Any) -> Any:
        if data == self.bad:
            raise ValueError(f"cannot handle {data}")
        return data


class TwoOutputs(GenericPE):
    """Write each item to ``kept`` and its negation to ``extra``."""

    def __init__(self) -> None:
        super().__init__()
        self._add_input("input")
        self._add_output("kept")
        self._add_output("extra")

    def _process(self, inputs: dict[str, Any]) -> None:
        self.write("kept", inputs["input"])
        self.write("extra", -inputs["input"])


class Sink(ConsumerPE):
    """Swallow every item."""

    def _process(self, data: Any) -> None:
        return None


class WhoAmI(GenericPE):
    """Emit ``(instance_index, instance_count, items seen)`` once, at the end."""

    def __init__(self, numprocesses: int = 1) -> None:
        super().__init__(numprocesses)
        self._add_input("input")
        self._add_output("output")
        self.seen = 0

    def _process(self, inputs: dict[str, Any]) -> None:
        self.seen += 1

    def _postprocess(self) -> None:
        self.write("output", (self.instance_index, self.instance_count, self.seen))


class WhereAmI(WhoAmI):
    """Emit ``(pid, items seen)`` once, at the end: which process ran this instance."""

    def _postprocess(self) -> None:
        self.write("output", (os.getpid(), self.seen))
