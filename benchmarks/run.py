"""Run the benchmarks side by side with their anchors and print the results as Markdown.

    python benchmarks/run.py [SECTION ...] [--repeat R]

Sections: simple, multi, mpi, spark, seismo, whole, transfer, monitor, prov, redis.

Anchors: a plain Python loop doing the same work, and dispel4py 1.2.1,
installed from PyPI into benchmarks/.venvs/ on first use. With no section
named, every section runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
from datetime import date

from anchors import compile_d4py

# Each section's module, imported when it runs: a section may need a backend that is not installed.
SECTIONS = {
    "simple": "simple_bench",
    "multi": "multi_bench",
    "mpi": "mpi_bench",
    "spark": "spark_bench",
    "seismo": "seismo_bench",
    "whole": "whole_bench",
    "transfer": "transfer_bench",
    "monitor": "monitor_bench",
    "prov": "prov_bench",
    "redis": "redis_bench",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", choices=[*SECTIONS, []], help="sections to run (default: all)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per figure; the best is kept (monitor: the median of at least 32)"
    )
    args = parser.parse_args()
    print(
        f"# d4py benchmarks, {date.today()}: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print()
    compile_d4py()
    for name in args.sections or SECTIONS:
        importlib.import_module(SECTIONS[name]).main(repeat=args.repeat)


if __name__ == "__main__":
    main()
