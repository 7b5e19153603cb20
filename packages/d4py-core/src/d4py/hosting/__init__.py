"""What a backend needs to run a plan's instances in processes of its own: the backend author's interface.

A backend is a *transport* (how a batch of messages gets from one process to
another) plus a *launcher* (how its processes start and end). Everything
else is here, shared by every such backend:

- :mod:`~d4py.hosting.startup`: the driver's :func:`worker_settings` and each
  worker's :func:`start_worker` (paths, compatibility, logs, the run's plugins,
  its own copy of the plan);
- :mod:`~d4py.hosting.host`: :class:`ProcessHost`, the instances of the slots
  the plan's layout gives one process, and :class:`HostTransport`, which calls
  local instances directly and batches the rest per destination process
  (:func:`queued`: a send into an outbox that tallies what it sends);
- :mod:`~d4py.hosting.outbox`: :class:`Outbox` batching (its limits are the
  :class:`~d4py.backend.BatchOptions` a backend's options inherit);
- :mod:`~d4py.hosting.framing`: a batch as a pickle-5 frame plus raw buffers;
- :mod:`~d4py.hosting.repeats`: :class:`SentBuffers` and :class:`ReceivedBuffers`, so a large
  array written again crosses to a destination once;
- :mod:`~d4py.hosting.messages`: the message kinds;
- :mod:`~d4py.hosting.collector`: the driver's :class:`RunCollector`;
- :mod:`~d4py.hosting.children`: the processes a driver starts, tied to its life and stopped by pid.

``docs/plugins.md`` walks through a backend built from these names alone.
"""

from d4py.backend import BatchOptions
from d4py.hosting.children import die_with_parent, stop_processes
from d4py.hosting.collector import OutputCollector, RunCollector
from d4py.hosting.framing import buffer_sizes, decode, encode
from d4py.hosting.host import HostTransport, ProcessHost, queued, queued_traced
from d4py.hosting.messages import (
    DONE,
    END,
    FAILED,
    FIRST_BACKEND_KIND,
    ITEM,
    ITEMS,
    OUTPUT,
    PROGRESS,
    REPORT,
    TRACED,
    Batch,
    Message,
)
from d4py.hosting.outbox import Outbox, approximate_size
from d4py.hosting.repeats import ReceivedBuffers, SentBuffers
from d4py.hosting.startup import (
    Worker,
    WorkerSettings,
    keep_freed_memory,
    portable_error,
    start_worker,
    worker_settings,
)

__all__ = [
    "DONE",
    "END",
    "FAILED",
    "FIRST_BACKEND_KIND",
    "ITEM",
    "ITEMS",
    "OUTPUT",
    "PROGRESS",
    "REPORT",
    "TRACED",
    "Batch",
    "BatchOptions",
    "HostTransport",
    "Message",
    "Outbox",
    "OutputCollector",
    "ProcessHost",
    "ReceivedBuffers",
    "RunCollector",
    "SentBuffers",
    "Worker",
    "WorkerSettings",
    "approximate_size",
    "buffer_sizes",
    "decode",
    "die_with_parent",
    "encode",
    "keep_freed_memory",
    "portable_error",
    "queued",
    "queued_traced",
    "start_worker",
    "stop_processes",
    "worker_settings",
]
