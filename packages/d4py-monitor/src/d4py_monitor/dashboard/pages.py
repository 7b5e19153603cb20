"""The pages as HTML: a static page with its stylesheet and scripts, linked (served) or inlined (the report).

A page is a file of ``static/`` holding its ``<title>`` line and then what
its ``<body>`` shows; :func:`page` puts the document around them that every
page shares: the head with the stylesheet, then the page's data and scripts
at the end of the body. Data goes in a JSON block
(``<script type="application/json">``, never executed) with ``<``, ``>`` and
``&`` escaped, so nothing a record holds can close the block; the scripts put
every value on the page as text, never as markup.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from d4py_monitor.dashboard.analysis import analyse
from d4py_monitor.prov.model import ItemRecord, RunLineage
from d4py_monitor.record import RunRecord

__all__ = ["STATIC", "error_page", "item_json", "lineage_data", "page", "run_data", "run_page"]

STATIC = Path(__file__).parent / "static"
SCRIPTS = {
    "runs.html": ["common.js", "runs.js"],
    "run.html": ["common.js", "run.js"],
    "compare.html": ["common.js", "compare.js"],
    "lineage.html": ["common.js", "lineage.js"],
}


def asset(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def json_for_html(data: Any) -> str:
    """JSON that can stand inside a ``<script>`` block: no ``<``, ``>`` or ``&`` left as they are."""
    text = json.dumps(data, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page(name: str, data: Any = None, inline: bool = False) -> str:
    """The page ``name`` with its stylesheet and scripts linked from /static/, or inlined, and ``data``."""
    if inline:
        style = f"<style>\n{_inlined(asset('style.css'), 'style')}</style>"
        scripts = "".join(
            f"<script>\n{_inlined(asset(script), 'script')}</script>\n" for script in SCRIPTS.get(name, [])
        )
    else:
        style = '<link rel="stylesheet" href="/static/style.css">'
        scripts = "".join(f'<script src="/static/{script}"></script>\n' for script in SCRIPTS.get(name, []))
    block = "" if data is None else f'<script type="application/json" id="d4py-data">{json_for_html(data)}</script>'
    title, body = asset(name).split("\n", 1)
    text = f"{_HEAD}{title}\n{style}\n</head>\n<body>\n{body}{block}\n{scripts}</body>\n</html>\n"
    if inline:  # a file opened on its own has no runs list to go back to
        text = text.replace('<a class="home" href="/">d4py runs</a>', '<span class="home">d4py run report</span>')
    return text


_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
"""


def _inlined(text: str, tag: str) -> str:
    if f"</{tag}" in text.lower():  # our own files: a test keeps them free of it
        raise ValueError(f"cannot inline a {tag} that holds </{tag}")
    return text


def run_data(run: RunRecord, live: bool, lineage: bool = False) -> dict[str, Any]:
    """What the run page draws: the record, its analysis, where to poll for changes when ``live``, and the
    address of its lineage page when it kept ``lineage``."""
    data = {"live": live, "api": f"/api/runs/{run.id}", "run": run.to_json(), "analysis": analyse(run)}
    if lineage:
        data["lineage"] = f"/runs/{run.id}/lineage"
    return data


def run_page(run: RunRecord, inline: bool = False, lineage: bool = False) -> str:
    """The run page: served (linked, live) or as the self-contained report (inlined, not live)."""
    return page("run.html", run_data(run, live=not inline, lineage=lineage), inline=inline)


def item_json(record: ItemRecord) -> dict[str, Any]:
    """One item as the lineage page reads it; its id as text (JavaScript's numbers hold integers up to 2**53)."""
    return {
        "id": str(record.id),
        "pe": record.pe,
        "instance": record.instance,
        "port": record.port,
        "item": record.value,
        "metadata": record.metadata,
    }


def lineage_data(run: RunRecord, lineage: RunLineage) -> dict[str, Any]:
    """What the lineage page draws: each output with its root inputs (none at level run), and failed calls.

    Ids are text: JavaScript's numbers hold integers up to 2**53 only.
    """
    known: dict[int, frozenset[int]] = {}
    traced = lineage.level != "run"
    outputs = [
        {**item_json(output), "roots": [item_json(r) for r in lineage.roots_of(output.id, known)] if traced else None}
        for output in lineage.outputs()
    ]
    return {
        "run": {key: getattr(run, key) for key in ("id", "backend", "status")} | {"workflow": run.workflow["name"]},
        "level": lineage.level,
        "share": lineage.share,
        "items": len(lineage.items),
        "outputs": outputs,
        "inputs": [item_json(record) for _, record in sorted(lineage.items.items()) if record.port == ""],
        "failures": [{**failure.to_json(), "inputs": [str(i) for i in failure.inputs]} for failure in lineage.failures],
    }


def error_page(title: str, message: str) -> str:
    """A page that says what went wrong, in words, with a way back to the runs."""
    text = page("error.html")
    return text.replace("<!--d4py:title-->", html.escape(title)).replace("<!--d4py:message-->", html.escape(message))
