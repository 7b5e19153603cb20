"""Shared fixtures: ObsPy's bundled real waveforms and inventory, and a small synthetic network."""

from __future__ import annotations

import pytest
from obspy import Inventory, Stream, read, read_inventory

from d4py_seismo import SyntheticNetwork


@pytest.fixture
def real_stream() -> Stream:
    """Three channels of station BW.RJOB, 30 s at 100 Hz, as shipped with ObsPy."""
    return read()


@pytest.fixture(scope="session")
def real_inventory() -> Inventory:
    """The instrument responses of ``real_stream``'s channels, as shipped with ObsPy."""
    return read_inventory()


@pytest.fixture(scope="session")
def small_network() -> SyntheticNetwork:
    """Eight stations, fifteen minutes at 20 Hz: 28 pairs."""
    return SyntheticNetwork(stations=8, hours=0.25, sampling_rate=20.0, seed=11)
