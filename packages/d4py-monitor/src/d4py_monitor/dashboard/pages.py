"""The pages as HTML: a static page with its stylesheet and scripts, linked (served) or inlined (the report).

A page is a file of ``static/`` with three marks: ``<!--d4py:style-->``,
``<!--d4py:data-->`` and ``<!--d4py:scripts-->``. Data goes in a JSON block
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
from d4py_monitor.record import RunRecord

__all__ = ["STATIC", "error_page", "page", "run_data", "run_page"]

STATIC = Path(__file__).parent / "static"
SCRIPTS = {
    "runs.html": ["common.js", "runs.js"],
    "run.html": ["common.js", "run.js"],
    "compare.html": ["common.js", "compare.js"],
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
    text = asset(name)
    for mark, value in (("style", style), ("data", block), ("scripts", scripts)):
        text = text.replace(f"<!--d4py:{mark}-->", value)
    if inline:  # a file opened on its own has no runs list to go back to
        text = text.replace('<a class="home" href="/">d4py runs</a>', '<span class="home">d4py run report</span>')
    return text


def _inlined(text: str, tag: str) -> str:
    if f"</{tag}" in text.lower():  # our own files: a test keeps them free of it
        raise ValueError(f"cannot inline a {tag} that holds </{tag}")
    return text


def run_data(run: RunRecord, live: bool) -> dict[str, Any]:
    """What the run page draws: the record, its analysis, and where to poll for changes when ``live``."""
    return {"live": live, "api": f"/api/runs/{run.id}", "run": run.to_json(), "analysis": analyse(run)}


def run_page(run: RunRecord, inline: bool = False) -> str:
    """The run page: served (linked, live) or as the self-contained report (inlined, not live)."""
    return page("run.html", run_data(run, live=not inline), inline=inline)


def error_page(title: str, message: str) -> str:
    """A page that says what went wrong, in words, with a way back to the runs."""
    text = page("error.html")
    return text.replace("<!--d4py:title-->", html.escape(title)).replace("<!--d4py:message-->", html.escape(message))
