"""The run's plugins in every process: which travel, how a worker re-creates them, and what stays behind."""

from __future__ import annotations

import pickle

import pytest

from d4py import PluginError
from d4py.hookspecs import hookimpl
from d4py.plugins import make_plugin_manager
from d4py.runhooks import RunHooks
from d4py.testing.observing import InstanceWatch, install_watch_plugin


class _DriverOnly:
    """Holds something that cannot be pickled, and acts only in the driver."""

    def __init__(self) -> None:
        self.lock = __import__("threading").Lock()

    @hookimpl
    def d4py_run_progress(self, counts):
        pass


class _Unpicklable:
    def __reduce__(self):
        raise TypeError("holds a socket")

    @hookimpl
    def d4py_observe(self, pe, info):
        return None


def test_plugins_that_act_on_instances_travel_and_driver_only_ones_stay():
    manager = make_plugin_manager(autoload=False)
    watch, driver_only = InstanceWatch(), _DriverOnly()
    manager.register(watch, name="watch-for-this-run")
    manager.register(driver_only)
    plugins = pickle.loads(pickle.dumps(RunHooks(manager).for_workers()))  # as it reaches a worker
    recreated = plugins.hooks().manager
    travelled = recreated.get_plugin("watch-for-this-run")
    assert isinstance(travelled, InstanceWatch) and travelled is not watch
    assert not any(isinstance(plugin, _DriverOnly) for plugin in recreated.get_plugins())


def test_a_run_plugin_that_cannot_travel_is_refused_naming_it():
    manager = make_plugin_manager(autoload=False)
    manager.register(_Unpicklable(), name="my-socket-plugin")
    with pytest.raises(PluginError, match=r"\(my-socket-plugin\) cannot be sent to worker processes: TypeError"):
        RunHooks(manager).for_workers()


def test_a_worker_loads_the_entry_point_plugins_the_driver_loaded(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(install_watch_plugin(tmp_path)))
    driver = make_plugin_manager(autoload=True)
    assert driver.get_plugin("watch") is not None
    plugins = RunHooks(driver).for_workers()
    assert "watch" in plugins.entry_points
    assert plugins.hooks().manager.get_plugin("watch") is not None
    quiet = RunHooks(make_plugin_manager(autoload=False)).for_workers()  # autoload off in the driver: off here
    assert quiet.hooks().manager.get_plugin("watch") is None
