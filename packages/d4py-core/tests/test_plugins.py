"""The plugin manager and backend registry, with inline fake plugins on fresh managers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from d4py import (
    Backend,
    BackendNotFound,
    BackendUnavailable,
    OptionError,
    PluginError,
    RunResult,
    UsageError,
    WorkflowGraph,
    hookimpl,
    run,
)
from d4py.backend import parse_options
from d4py.plugins import backend_registry, get_backend, make_plugin_manager
from d4py.testing.pes import Numbers, Pass


def _manager(*plugins):
    manager = make_plugin_manager(autoload=False)
    for plugin in plugins:
        manager.register(plugin)
    return manager


class _Missing(Backend):
    name = "missing"

    @classmethod
    def unavailable_reason(cls):
        return "install it with: pip install d4py-missing"

    def run(self, plan, hook):
        raise AssertionError("never runs")


class _Plugin:
    def __init__(self, *classes):
        self.classes = list(classes)

    @hookimpl
    def d4py_backends(self):
        return self.classes


def test_simple_is_registered_through_the_hook():
    assert list(backend_registry(_manager())) == ["simple"]


def test_duplicate_backend_names_are_rejected_naming_both():
    class Again(Backend):
        name = "simple"

        def run(self, plan, hook):
            raise AssertionError

    with pytest.raises(PluginError, match="backend 'simple' is provided twice: by d4py-core"):
        backend_registry(_manager(_Plugin(Again)))


def test_a_backend_without_a_name_is_rejected():
    class Nameless(Backend):
        def run(self, plan, hook):
            raise AssertionError

    with pytest.raises(PluginError, match="not a d4py Backend with a name"):
        backend_registry(_manager(_Plugin(Nameless)))


def test_unknown_and_unavailable_backends_say_what_to_do():
    manager = _manager(_Plugin(_Missing))
    with pytest.raises(BackendNotFound, match="installed backends: missing, simple"):
        get_backend("mpi", manager)
    with pytest.raises(BackendUnavailable, match="pip install d4py-missing"):
        get_backend("missing", manager)


def test_misspelled_hooks_fail_at_start_up():
    class Typo:
        @hookimpl
        def d4py_backend(self):
            return []

    manager = make_plugin_manager(autoload=False)
    manager.register(Typo())
    with pytest.raises(Exception, match="unknown hook"):
        manager.check_pending()


def test_run_hooks_and_process_wrappers_fire_once_per_run_and_instance():
    events = []

    class Watcher:
        @hookimpl
        def d4py_run_start(self, plan, backend):
            events.append(("start", backend.name))

        @hookimpl
        def d4py_wrap_process(self, pe, info):
            events.append(("wrap", info.pe_id, info.index))

            def wrap(process):
                def counted(inputs):
                    events.append(("item", info.pe_id))
                    return process(inputs)

                return counted

            return wrap

        @hookimpl
        def d4py_run_end(self, plan, backend, result, error):
            events.append(("end", isinstance(result, RunResult), error))

    graph = WorkflowGraph()
    source, sink = Numbers(3), Pass()
    graph.connect(source, "output", sink, "input")
    result = run(graph, plugin_manager=_manager(Watcher()))
    assert result.output(sink.id) == [0, 1, 2]
    assert events[0] == ("start", "simple") and events[-1] == ("end", True, None)
    assert events.count(("item", sink.id)) == 3 and events.count(("wrap", sink.id, 0)) == 1


def _backend_taking(options: type, backend_name: str) -> type[Backend]:
    """A backend that only parses its options."""

    class Parses(Backend):
        name = backend_name
        Options = options

        def run(self, plan, hook):
            raise AssertionError

    return Parses


@dataclass(frozen=True)
class Opts:
    workers: int = 2
    mode: Literal["static", "dynamic"] = "static"
    verbose: bool = False


def test_options_are_typed_and_checked():
    with_options = _backend_taking(Opts, "opts")
    assert parse_options(with_options, ["workers=4", "mode=dynamic", "verbose=yes"]) == Opts(4, "dynamic", True)
    with pytest.raises(OptionError, match="its options are: mode, verbose, workers"):
        parse_options(with_options, ["speed=1"])
    with pytest.raises(OptionError, match="choose one of static, dynamic"):
        parse_options(with_options, ["mode=fast"])
    with pytest.raises(OptionError, match="expected an integer"):
        parse_options(with_options, ["workers=two"])
    with pytest.raises(OptionError, match=r"-o workers=-1: expected 0 or more"):
        parse_options(with_options, ["workers=-1"])


@dataclass(frozen=True)
class CheckedOpts:
    in_flight: int = 4

    def __post_init__(self) -> None:
        if self.in_flight < 1:
            raise ValueError("-o in_flight must be 1 or more")


def test_an_options_class_that_checks_its_values_gives_a_usage_error():
    with pytest.raises(OptionError, match="backend 'checked': -o in_flight must be 1 or more"):
        parse_options(_backend_taking(CheckedOpts, "checked"), ["in_flight=0"])


def test_a_backend_refuses_a_plan_before_anything_starts():
    started = []

    class NoFanIn(Backend):
        name = "nofanin"

        def check(self, plan):
            for pe_id, edges in plan.incoming.items():
                if len(edges) > 1:
                    raise UsageError(f"backend 'nofanin' cannot run PE '{pe_id}': it has {len(edges)} inputs")

        def run(self, plan, hook):
            started.append(plan)

    class Watch:
        @hookimpl
        def d4py_run_start(self, plan, backend):
            started.append(plan)

    graph = WorkflowGraph()
    a, b, merge = Numbers(1), Numbers(1), Pass()
    graph.connect(a, "output", merge, "input")
    graph.connect(b, "output", merge, "input")
    with pytest.raises(UsageError, match=rf"cannot run PE '{merge.id}': it has 2 inputs"):
        run(graph, backend="nofanin", plugin_manager=_manager(_Plugin(NoFanIn), Watch()))
    assert started == []


def test_a_backend_that_does_not_fuse_chains_gets_one_partition_per_pe():
    plans = []

    class OnePerPE(Backend):
        name = "oneperpe"
        fuses_chains = False

        def run(self, plan, hooks):
            plans.append(plan)
            return RunResult({}, {}, 0.0, self.name)

    graph = WorkflowGraph()
    graph.connect(Numbers(3), "output", Pass(), "input")
    run(graph, backend="oneperpe", plugin_manager=_manager(_Plugin(OnePerPE)))
    assert len(plans[0].partitions) == 2 and not any(edge.local for edge in plans[0].edges)
