"""How results and errors are shown on the terminal: plain lines, in colour on a terminal."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, TextIO

from d4py._exceptions import D4pyError, PEFailure, describe_item

if TYPE_CHECKING:
    from d4py.backend import RunResult

__all__ = ["print_error", "print_result", "result_json"]

SHOWN_ITEMS = 20
_STYLES = {"bold": "1", "dim": "2", "red": "1;31"}


def result_json(result: RunResult) -> str:
    """The run result as JSON; items JSON cannot hold are written as their repr."""
    document = {
        "backend": result.backend,
        "wall_time": result.wall_time,
        "counts": result.counts,
        "outputs": result.outputs,
    }
    return json.dumps(document, default=repr, indent=2)


def print_result(result: RunResult, stream: TextIO) -> None:
    """Print the collected outputs, one item a line (the first few per port), then a summary."""
    lines = []
    for pe_id, ports in result.outputs.items():
        for port, items in ports.items():
            lines.append(f"{_styled(f'{pe_id}.{port}', 'bold', stream)} ({len(items):,} items)")
            lines.extend(f"  {describe_item(item)}" for item in items[:SHOWN_ITEMS])
            if len(items) > SHOWN_ITEMS:
                lines.append(_styled(f"  … {len(items) - SHOWN_ITEMS:,} more (use --json for all)", "dim", stream))
    total = sum(result.counts.values())
    summary = f"{result.backend}: {len(result.counts)} PEs processed {total:,} items in {result.wall_time:.3f} s"
    lines.append(_styled(summary, "dim", stream))
    stream.write("\n".join(lines) + "\n")


def print_error(error: BaseException, stream: TextIO, verbose: bool = False) -> None:
    """Print a d4py error as one line, with the PE's traceback for a failed PE."""
    print(f"{_styled('error:', 'red', stream)} {error}", file=stream)
    text: Any = ""
    if isinstance(error, PEFailure) or (verbose and isinstance(error, D4pyError)):
        text = getattr(error, "traceback_text", "")
    if text:
        print(text.rstrip(), file=stream)


def _styled(text: str, style: str, stream: TextIO) -> str:
    """``text`` in a terminal style when ``stream`` is a terminal and colour is not turned off (NO_COLOR)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb" or not stream.isatty():
        return text
    return f"\033[{_STYLES[style]}m{text}\033[0m"
