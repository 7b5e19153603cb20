"""One local Spark session for the whole test run; the backend uses the active one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from d4py_spark import SparkOptions, new_context


@pytest.fixture(scope="session", autouse=True)
def spark_context() -> Iterator[Any]:
    context = new_context(SparkOptions(app_name="d4py-tests", conf="spark.ui.enabled=false"), cores=2)
    yield context
    context.stop()
