"""d4py-spark: run d4py workflows on Apache Spark."""

from d4py_spark.__about__ import __version__
from d4py_spark.backend import SparkBackend, SparkOptions, new_context

__all__ = ["SparkBackend", "SparkOptions", "__version__", "new_context"]
