"""dispel4py.new.monitoring, served by d4py."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from d4py.pe import GenericPE

__all__ = ["ProcessTimingPE"]


class ProcessTimingPE(GenericPE):
    """Wrap a PE, timing its ``process`` calls and logging the total at the end."""

    def __init__(self, inner: GenericPE) -> None:
        super().__init__(inner.numprocesses)
        self.inner = inner
        self.name = inner.name
        self.inputconnections = inner.inputconnections
        self.outputconnections = inner.outputconnections
        self.total_time = 0.0
        self.calls = 0

    def preprocess(self) -> None:
        self.inner._emitters = self._emitters
        self.inner.id = self.id
        self.inner.preprocess()

    def process(self, inputs: dict[str, Any]) -> Mapping[str, Any] | None:
        started = time.perf_counter()
        try:
            return self.inner.process(inputs)
        finally:
            self.total_time += time.perf_counter() - started
            self.calls += 1

    def postprocess(self) -> None:
        self.inner.postprocess()
        self.log(f"process() took {self.total_time:.6f} s over {self.calls} calls")
