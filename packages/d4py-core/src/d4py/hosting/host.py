"""What a worker process runs, whatever carries its batches: the instances of its slots.

A :class:`ProcessHost` holds the instances of the slots (partition, index)
that the plan's layout gives one process. They call each other directly;
everything bound for another process goes through :class:`HostTransport`,
which queues it in the :class:`~d4py.hosting.outbox.Outbox` of the process
hosting the target. Arriving batches go to :meth:`ProcessHost.dispatch`.
Backends differ only in how a batch crosses to another process and how
processes are started and watched.

The plan a host receives must be this process's own copy (unpickled here),
because its PE objects become the running instances.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

from d4py.hosting.messages import DONE, END, ITEM, ITEMS, OUTPUT, PROGRESS, REPORT, TRACED, Batch, Message
from d4py.hosting.outbox import Outbox
from d4py.observe import Sampler, Tally, tallied
from d4py.plan import Edge, Plan, Slot
from d4py.runhooks import RunHooks
from d4py.runtime import Instance, InstanceInfo, Send, TracedSend, instantiate

__all__ = ["HostTransport", "ProcessHost", "queued", "queued_traced"]


class HostTransport:
    """Delivers to this process's instances by direct call, and to the others through outboxes.

    ``outbox_for(process)`` returns the outbox bound for that process of the
    layout (the plan's, unless ``layout`` gives the backend's own);
    ``to_driver`` carries what the driver collects.
    """

    def __init__(
        self,
        plan: Plan,
        outbox_for: Callable[[int], Outbox],
        to_driver: Outbox,
        layout: list[list[Slot]] | None = None,
    ) -> None:
        self.plan, self.outbox_for, self.to_driver = plan, outbox_for, to_driver
        self.instances: dict[tuple[str, int], Instance] = {}
        self.outboxes: list[Outbox] = [to_driver]
        self._process_of = {slot: number for number, slots in enumerate(layout or plan.layout) for slot in slots}
        self.sampler: Sampler | None = None

    def time_sends(self, sampler: Sampler) -> None:
        """Charge time spent sending (waiting on a full downstream) to the writing instance, as blocked."""
        self.sampler = sampler
        for outbox in self.outboxes:
            outbox.send = sampler.sending(outbox.send)

    def deliver(self, edge: Edge, target: int) -> Send:
        local = self.instances.get((edge.target, target))
        if local is not None:
            return local.receiver(edge.input)
        return queued(self._outbox(edge.target, target), edge.index, target)

    def deliver_traced(self, edge: Edge, target: int) -> TracedSend:
        local = self.instances.get((edge.target, target))
        if local is not None:
            return local.traced_receiver(edge.input)
        return queued_traced(self._outbox(edge.target, target), edge.index, target)

    def end(self, edge: Edge, target: int, source: int) -> None:
        local = self.instances.get((edge.target, target))
        if local is not None:
            local.end_of_input(edge.index, source)
        else:
            self._outbox(edge.target, target).put((END, edge.index, target, source))

    def collect(self, pe_id: str, port: str) -> Send:
        put = self.to_driver.put_item

        def keep(item: Any) -> None:
            put(OUTPUT, pe_id, port, item)

        return keep

    def report(self, info: InstanceInfo, final: bool, reports: list[Any]) -> None:
        self.to_driver.put((REPORT, info.pe_id, info.index, info.instances, final, reports))

    def flush(self) -> None:
        """Send every queued batch; the driver's last, after what it may depend on (``outboxes`` ends with it)."""
        for outbox in self.outboxes:
            outbox.flush()

    def _outbox(self, pe_id: str, index: int) -> Outbox:
        outbox = self.outbox_for(self._process_of[(self.plan.nodes[pe_id].partition, index)])
        if outbox not in self.outboxes:
            if self.sampler is not None:
                outbox.send = self.sampler.sending(outbox.send)
            self.outboxes.insert(0, outbox)
        return outbox


class ProcessHost:
    """The instances of one process's slots, driven by the shared runtime.

    ``worker`` names this process in the messages it sends the driver. With
    ``progress_seconds``, the host sends its counts (PROGRESS) at most that
    often; observed instances hand their activity to their observers every
    ``observe_seconds``. Both are checked per arriving batch and per root
    input (:meth:`tick`).
    """

    def __init__(
        self,
        plan: Plan,
        slots: list[Slot],
        transport: HostTransport,
        hooks: RunHooks,
        worker: int = 0,
        progress_seconds: float | None = None,
        observe_seconds: float = 0.5,
    ) -> None:
        self.plan, self.slots, self.transport, self.worker = plan, slots, transport, worker
        self.order: list[Instance] = []
        sampler = self.sampler = Sampler()
        # This process's copy of the plan holds one object per PE: where a layout packs several instances of a
        # PE here, the others get copies of their own (made before any is wired), or they would share state.
        hosted = Counter(pe_id for partition, _ in slots for pe_id in plan.partitions[partition])
        copies = {pe_id: instantiate(plan.nodes[pe_id].pe, count - 1) for pe_id, count in hosted.items() if count > 1}
        for partition, index in slots:
            for pe_id in plan.partitions[partition]:
                node = plan.nodes[pe_id]
                pe = copies[pe_id].pop() if copies.get(pe_id) else node.pe
                info = InstanceInfo(pe_id, index, node.instances)
                wrappers, observers = hooks.wrappers(pe, info), hooks.observers(pe, info)
                instance = Instance(plan, pe_id, index, pe, transport, wrappers, observers, sampler)
                transport.instances[(pe_id, index)] = instance
                self.order.append(instance)
        self.observed = [instance for instance in self.order if instance.observers]
        if self.observed:
            transport.time_sends(sampler)
        self._receivers: dict[tuple[int, int], Send] = {}
        self._traced_receivers: dict[tuple[int, int], TracedSend] = {}
        self.progress_seconds, self.observe_seconds = progress_seconds, observe_seconds
        self._reported = self._observed_at = self._active_at = time.monotonic()

    def start(self) -> None:
        """Connect every instance, then run their ``preprocess``, downstream first."""
        for instance in reversed(self.order):
            instance.connect()
        for instance in reversed(self.order):
            instance.start()
        self._rest()

    def run_roots(self) -> None:
        """Feed each hosted root instance its share of the run input, then end it."""
        for _ in self.root_steps():
            pass

    def root_steps(self) -> Iterator[None]:
        """Feed the hosted roots as :meth:`run_roots` does, pausing after each run input.

        For backends whose platform asks for items one call at a time (a
        Storm spout's ``next``): each step feeds one input, or ends a root.
        """
        for instance in self.order:
            if instance.pe_id in self.plan.incoming:
                continue
            inputs = self.plan.inputs.get(instance.pe_id, [])
            for turn in range(instance.index, len(inputs), self.plan.nodes[instance.pe_id].instances):
                self._wake()
                instance.feed(inputs[turn], turn)
                self.tick()
                self._rest()
                yield
            self._wake()
            instance.finish()
            self._rest()
            yield

    def receiver(self, edge_index: int, target: int) -> Send:
        """The function that hands an item arriving over an edge to instance ``target`` here."""
        receive = self._receivers.get((edge_index, target))
        if receive is None:
            edge = self.plan.edges[edge_index]
            receive = self.transport.instances[(edge.target, target)].receiver(edge.input)
            self._receivers[(edge_index, target)] = receive
        return receive

    def traced_receiver(self, edge_index: int, target: int) -> TracedSend:
        """As :meth:`receiver`, for items that arrive with their lineage id (TRACED messages)."""
        receive = self._traced_receivers.get((edge_index, target))
        if receive is None:
            edge = self.plan.edges[edge_index]
            receive = self.transport.instances[(edge.target, target)].traced_receiver(edge.input)
            self._traced_receivers[(edge_index, target)] = receive
        return receive

    def hand(self, kind: int, edge_index: int, target: int, payload: Any) -> None:
        """Hand the item of one ITEM or TRACED message to instance ``target`` here."""
        if kind == ITEM:
            self.receiver(edge_index, target)(payload)
        else:
            self.traced_receiver(edge_index, target)(*payload)

    def dispatch(self, batch: Batch, queued: float = 0.0) -> None:
        """Hand every ITEM and END message of an arriving batch to its instance.

        ``queued``: when the batch's first message was queued in its sending process, if known; observed,
        how long it waited is a latency sample of the instance its first item is for.
        """
        if self.observed:
            self.waited()
            self._wake()
            if queued and batch and batch[0][0] in ITEMS:
                _, edge_index, target, _ = batch[0]
                first = self.transport.instances[(self.plan.edges[edge_index].target, target)]
                if first.activity is not None:
                    first.activity.latency.append(max(0.0, time.time() - queued))
        for kind, edge_index, target, payload in batch:
            if kind == ITEM:
                self.receiver(edge_index, target)(payload)
            elif kind == TRACED:
                self.traced_receiver(edge_index, target)(*payload)
            else:
                self.transport.instances[(self.plan.edges[edge_index].target, target)].end_of_input(edge_index, payload)
        self.tick()
        self._rest()

    def _wake(self) -> None:
        """The instances here have work: the sampler charges time from now."""
        if self.observed:
            self.sampler.wake()

    def _rest(self) -> None:
        """The instances here wait for input (the next batch or step): the sampler need not look."""
        if self.observed:
            self.sampler.rest()

    def waited(self) -> None:
        """Charge the time since this host was last active, waiting for input, to its unfinished observed instances."""
        now = time.monotonic()
        for instance in self.observed:
            if not instance.finished and instance.activity is not None:
                instance.activity.idle += now - self._active_at
        self._active_at = now

    def tick(self) -> None:
        """Report progress and hand observers their activity, each when its interval has passed."""
        if self.progress_seconds is None and not self.observed:
            return
        now = self._active_at = time.monotonic()
        if self.progress_seconds is not None and now - self._reported >= self.progress_seconds:
            self._reported = now
            self.transport.to_driver.put((PROGRESS, self.worker, self.counts()))
        if self.observed and now - self._observed_at >= self.observe_seconds:
            self._observed_at = now
            for instance in self.observed:
                if not instance.finished:
                    instance.observe()

    @property
    def finished(self) -> bool:
        return all(instance.finished for instance in self.order)

    def finish(self) -> None:
        """End every instance that has not ended (pooled copies, told by their driver; Spark tasks)."""
        for instance in self.order:
            if not instance.finished:
                instance.finish()

    def discard_activity(self) -> None:
        """Drop what the observed instances counted since they last observed (:meth:`d4py.runtime.Instance.discard`)."""
        for instance in self.observed:
            instance.discard()

    def last_messages(self) -> list[Message]:
        """What this process still has for its driver as it fails, its instances' last observer reports included.

        Each unfinished observed instance hands over what it did as its final
        report, so a failed run keeps it; nothing is sent: the backend sends
        these ahead of its FAILED message.
        """
        for instance in self.observed:
            with suppress(Exception):  # the failure is what the driver must hear of, not this
                instance.give_up()
        self.stop_sampling()
        outbox = self.transport.to_driver
        messages, outbox.batch, outbox.size = outbox.batch, [], 0
        return messages

    def stop_sampling(self) -> None:
        """Stop this process's sampler thread now (it stops by itself once every observed instance has finished)."""
        self.sampler.stop()

    def counts(self) -> dict[str, int]:
        """Items processed so far per PE, over this process's instances."""
        counts: dict[str, int] = {}
        for instance in self.order:
            counts[instance.pe_id] = counts.get(instance.pe_id, 0) + instance.count
        return counts

    def done(self) -> Message:
        """The message that tells the driver this process has ended, sent after everything else."""
        return (DONE, self.worker, self.counts())


def queued(outbox: Outbox, edge_index: int, target: int) -> Send:
    """The send that queues an item over edge ``edge_index`` for instance ``target``, tallying items and bytes."""
    put, tally = outbox.put_item, Tally()

    def send(item: Any) -> None:
        tally.items += 1
        tally.bytes += put(ITEM, edge_index, target, item)

    return tallied(send, tally)


def queued_traced(outbox: Outbox, edge_index: int, target: int) -> TracedSend:
    """As :func:`queued`, in a traced run: each item goes with its lineage id (a TRACED message)."""
    put, tally = outbox.put_item, Tally()

    def send(item: Any, item_id: int) -> None:
        tally.items += 1
        tally.bytes += put(TRACED, edge_index, target, item, item_id)

    return tallied(send, tally)
