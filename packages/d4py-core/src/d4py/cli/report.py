"""How results and errors are shown on the terminal."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from d4py._exceptions import D4pyError, PEFailure, describe_item
from d4py.backend import RunResult

__all__ = ["print_error", "print_result", "result_json"]

SHOWN_ITEMS = 20


def result_json(result: RunResult) -> str:
    """The run result as JSON; items JSON cannot hold are written as their repr."""
    document = {
        "backend": result.backend,
        "wall_time": result.wall_time,
        "counts": result.counts,
        "outputs": result.outputs,
    }
    return json.dumps(document, default=repr, indent=2)


def print_result(result: RunResult, console: Console) -> None:
    """Print the collected outputs, one item a line (the first few per port), then a summary."""
    for pe_id, ports in result.outputs.items():
        for port, items in ports.items():
            console.print(f"[bold]{escape(pe_id)}.{escape(port)}[/] ({len(items):,} items)", highlight=False)
            for item in items[:SHOWN_ITEMS]:
                console.print(f"  {escape(describe_item(item))}", highlight=False, soft_wrap=True)
            if len(items) > SHOWN_ITEMS:
                console.print(f"  [dim]… {len(items) - SHOWN_ITEMS:,} more (use --json for all)[/]", highlight=False)
    total = sum(result.counts.values())
    console.print(
        f"[dim]{result.backend}: {len(result.counts)} PEs processed {total:,} items in {result.wall_time:.3f} s[/]",
        highlight=False,
    )


def print_error(error: BaseException, console: Console, verbose: bool = False) -> None:
    """Print a d4py error as one line, with the PE's traceback for a failed PE."""
    console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
    if isinstance(error, PEFailure) and error.traceback_text:
        console.print(escape(error.traceback_text.rstrip()), highlight=False, soft_wrap=True)
    elif verbose and isinstance(error, D4pyError):
        text: Any = getattr(error, "traceback_text", "")
        if text:
            console.print(escape(text.rstrip()), highlight=False, soft_wrap=True)
