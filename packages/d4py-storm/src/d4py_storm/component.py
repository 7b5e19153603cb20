"""The multilang component every spout and bolt of a d4py topology runs: ``python -m d4py_storm.component``.

Storm starts it in the resources folder (the topology jar's ``resources/``)
and shakes hands; the component learns which task it is, reads the run's
settings, and hosts that task's slot of the plan with core's
:class:`~d4py.hosting.ProcessHost`, so lifecycle, routing and end-of-stream
are core's. Batches for other tasks leave as tuples emitted *directly* to
the task core's router chose; what the driver collects (outputs, counts,
failures, observer reports) goes to the collector bolt on its own stream.

Whatever PEs print goes to stderr, which Storm writes to the worker log:
stdout belongs to the protocol.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from d4py_storm.multilang import Channel, handshake
from d4py_storm.topology import COLLECTOR, RunSettings

__all__ = ["main"]


def main() -> int:
    """Run one task of a d4py topology until Storm closes its stdin."""
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # PEs (and C libraries) that print must not write into the protocol
    channel = Channel(sys.stdin.buffer, protocol_out)
    context = handshake(channel)
    settings = RunSettings.load(Path.cwd())
    if context.component == COLLECTOR:
        from d4py_storm.collector import serve_collector

        return serve_collector(channel, context, settings)
    from d4py_storm.task import serve_task

    return serve_task(channel, context, settings)


if __name__ == "__main__":
    sys.exit(main())
