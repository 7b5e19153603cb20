"""The conformance suite, every task a real multilang subprocess under the emulator of Storm's side."""

from pathlib import Path

import pytest

from d4py.testing.contract import BackendContract


class TestStorm(BackendContract):
    backend = "storm"
    options = ("emulate=true",)

    def test_fewer_processes_than_pes_give_the_same_results_in_no_more_processes(self) -> None:
        pytest.skip("Storm runs one multilang process per task: -n sets instance counts, Storm places processes")

    def test_what_pes_print_and_log_is_shown_in_order_per_instance(self, tmp_path: Path) -> None:
        pytest.skip("what PEs print goes to the Storm worker log (a component's stderr): see test_emulated.py")


class TestStormUnderABudget(TestStorm):
    """The same scenarios with instance counts scaled to a budget: more tasks per component."""

    processes = 6
