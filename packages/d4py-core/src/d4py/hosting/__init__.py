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
- :mod:`~d4py.hosting.pages`: :func:`receive_buffer`, where a transport reads each out-of-band
  buffer, so that one received and written again unchanged need not be compared;
- :mod:`~d4py.hosting.regions`: :class:`~d4py.hosting.regions.Regions`, for processes forked
  from one driver: large buffers through each sender's memory file instead of a pipe;
- :mod:`~d4py.hosting.messages`: the message kinds;
- :mod:`~d4py.hosting.collector`: the driver's :class:`RunCollector`;
- :mod:`~d4py.hosting.children`: the processes a driver starts, tied to its life and stopped by pid.

``docs/plugins.md`` walks through a backend built from these names alone.
Each name is imported from its module when first used, so that a run that
needs none of them (``simple``'s) does not import them all.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from d4py.backend import (
        BatchOptions as BatchOptions,
    )
    from d4py.hosting.children import (
        die_with_parent as die_with_parent,
    )
    from d4py.hosting.children import (
        stop_processes as stop_processes,
    )
    from d4py.hosting.collector import (
        OutputCollector as OutputCollector,
    )
    from d4py.hosting.collector import (
        RunCollector as RunCollector,
    )
    from d4py.hosting.framing import (
        buffer_sizes as buffer_sizes,
    )
    from d4py.hosting.framing import (
        buffers_kept as buffers_kept,
    )
    from d4py.hosting.framing import (
        decode as decode,
    )
    from d4py.hosting.framing import (
        encode as encode,
    )
    from d4py.hosting.host import (
        HostTransport as HostTransport,
    )
    from d4py.hosting.host import (
        ProcessHost as ProcessHost,
    )
    from d4py.hosting.host import (
        queued as queued,
    )
    from d4py.hosting.host import (
        queued_traced as queued_traced,
    )
    from d4py.hosting.messages import (
        DONE as DONE,
    )
    from d4py.hosting.messages import (
        END as END,
    )
    from d4py.hosting.messages import (
        FAILED as FAILED,
    )
    from d4py.hosting.messages import (
        FIRST_BACKEND_KIND as FIRST_BACKEND_KIND,
    )
    from d4py.hosting.messages import (
        ITEM as ITEM,
    )
    from d4py.hosting.messages import (
        ITEMS as ITEMS,
    )
    from d4py.hosting.messages import (
        OUTPUT as OUTPUT,
    )
    from d4py.hosting.messages import (
        PROGRESS as PROGRESS,
    )
    from d4py.hosting.messages import (
        REPORT as REPORT,
    )
    from d4py.hosting.messages import (
        TRACED as TRACED,
    )
    from d4py.hosting.messages import (
        Batch as Batch,
    )
    from d4py.hosting.messages import (
        Message as Message,
    )
    from d4py.hosting.outbox import (
        Outbox as Outbox,
    )
    from d4py.hosting.outbox import (
        approximate_size as approximate_size,
    )
    from d4py.hosting.pages import (
        receive_buffer as receive_buffer,
    )
    from d4py.hosting.repeats import (
        ReceivedBuffers as ReceivedBuffers,
    )
    from d4py.hosting.repeats import (
        SentBuffers as SentBuffers,
    )
    from d4py.hosting.startup import (
        Worker as Worker,
    )
    from d4py.hosting.startup import (
        WorkerSettings as WorkerSettings,
    )
    from d4py.hosting.startup import (
        keep_freed_memory as keep_freed_memory,
    )
    from d4py.hosting.startup import (
        portable_error as portable_error,
    )
    from d4py.hosting.startup import (
        start_worker as start_worker,
    )
    from d4py.hosting.startup import (
        worker_settings as worker_settings,
    )

_WHERE = {  # each name, and the module it comes from
    "BatchOptions": "d4py.backend",
    "die_with_parent": "d4py.hosting.children",
    "stop_processes": "d4py.hosting.children",
    "OutputCollector": "d4py.hosting.collector",
    "RunCollector": "d4py.hosting.collector",
    "buffer_sizes": "d4py.hosting.framing",
    "buffers_kept": "d4py.hosting.framing",
    "decode": "d4py.hosting.framing",
    "encode": "d4py.hosting.framing",
    "HostTransport": "d4py.hosting.host",
    "ProcessHost": "d4py.hosting.host",
    "queued": "d4py.hosting.host",
    "queued_traced": "d4py.hosting.host",
    "Batch": "d4py.hosting.messages",
    "DONE": "d4py.hosting.messages",
    "END": "d4py.hosting.messages",
    "FAILED": "d4py.hosting.messages",
    "FIRST_BACKEND_KIND": "d4py.hosting.messages",
    "ITEM": "d4py.hosting.messages",
    "ITEMS": "d4py.hosting.messages",
    "Message": "d4py.hosting.messages",
    "OUTPUT": "d4py.hosting.messages",
    "PROGRESS": "d4py.hosting.messages",
    "REPORT": "d4py.hosting.messages",
    "TRACED": "d4py.hosting.messages",
    "Outbox": "d4py.hosting.outbox",
    "approximate_size": "d4py.hosting.outbox",
    "receive_buffer": "d4py.hosting.pages",
    "ReceivedBuffers": "d4py.hosting.repeats",
    "SentBuffers": "d4py.hosting.repeats",
    "Worker": "d4py.hosting.startup",
    "WorkerSettings": "d4py.hosting.startup",
    "keep_freed_memory": "d4py.hosting.startup",
    "portable_error": "d4py.hosting.startup",
    "start_worker": "d4py.hosting.startup",
    "worker_settings": "d4py.hosting.startup",
}

__all__ = [
    "Batch",
    "BatchOptions",
    "DONE",
    "END",
    "FAILED",
    "FIRST_BACKEND_KIND",
    "HostTransport",
    "ITEM",
    "ITEMS",
    "Message",
    "OUTPUT",
    "Outbox",
    "OutputCollector",
    "PROGRESS",
    "ProcessHost",
    "REPORT",
    "ReceivedBuffers",
    "RunCollector",
    "SentBuffers",
    "TRACED",
    "Worker",
    "WorkerSettings",
    "approximate_size",
    "buffer_sizes",
    "buffers_kept",
    "decode",
    "die_with_parent",
    "encode",
    "keep_freed_memory",
    "portable_error",
    "queued",
    "queued_traced",
    "receive_buffer",
    "start_worker",
    "stop_processes",
    "worker_settings",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'd4py.hosting' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # found here from now on, without this function
    return value
