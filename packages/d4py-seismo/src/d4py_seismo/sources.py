"""Reading waveforms into a workflow: files, folders, glob patterns or an in-memory stream."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from obspy import Inventory, Stream, Trace, read

from d4py import ProducerPE

__all__ = ["ReadWaveforms", "read_waveforms"]


def read_waveforms(sources: list[str | Path | Stream], inventory: Inventory | None = None) -> Stream:
    """Read every source with ObsPy, merge each channel's pieces, and attach coordinates.

    A source is a file in any format ObsPy reads (miniSEED, SAC, ...), a
    folder (every file in it, recursively), a glob pattern, or a ``Stream``.
    Gaps are filled with zeros. With ``inventory``, each trace gets
    ``stats.coordinates`` for its channel, used for inter-station distances.
    """
    stream = Stream()
    for source in sources:
        if isinstance(source, Stream):
            stream += source.copy()
            continue
        for path in _files(source):
            try:
                stream += read(str(path))
            except Exception as error:
                raise ValueError(f"cannot read waveforms from {path}: {error}") from None
    stream.merge(method=1, fill_value=0)
    stream.sort(keys=["network", "station", "location", "channel"])
    if inventory is not None:
        for trace in stream:
            _attach_coordinates(trace, inventory)
    return stream


def _files(source: str | Path) -> list[Path]:
    path = Path(source)
    if path.is_dir():
        return sorted(child for child in path.rglob("*") if child.is_file())
    if path.is_file():
        return [path]
    matches = sorted(Path(match) for match in glob.glob(str(source)) if Path(match).is_file())
    if not matches:
        raise ValueError(f"no waveform files at {source}: give a file, a folder or a glob pattern that matches files")
    return matches


def _attach_coordinates(trace: Trace, inventory: Inventory) -> None:
    try:
        trace.stats.coordinates = inventory.get_coordinates(trace.id, trace.stats.starttime)
    except Exception:  # ObsPy raises a plain Exception for a channel it does not hold
        return


class ReadWaveforms(ProducerPE):
    """Write one merged ``Trace`` per channel read from ``sources`` (see :func:`read_waveforms`).

    Paths and patterns are checked when the PE is built, so a mistyped path
    fails before the run starts.
    """

    def __init__(self, *sources: str | Path | Stream, inventory: Inventory | None = None) -> None:
        super().__init__()
        if not sources:
            raise ValueError("ReadWaveforms: give at least one file, folder, glob pattern or Stream")
        for source in sources:
            if not isinstance(source, Stream):
                _files(source)
        self.sources = list(sources)
        self.inventory = inventory
        self.outputconnections["output"]["type"] = Trace

    def _process(self, inputs: Any) -> None:
        for trace in read_waveforms(self.sources, self.inventory):
            self.write("output", trace)
