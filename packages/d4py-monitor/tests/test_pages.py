"""The pages as files: nothing they load comes from elsewhere, and data cannot close its block."""

from __future__ import annotations

import json
import re

from d4py_monitor.dashboard.pages import STATIC, json_for_html, page

SVG_NAMESPACE = "http://www.w3.org/2000/svg"  # a name, never fetched


def test_the_pages_name_no_address_elsewhere():
    for path in STATIC.iterdir():
        text = path.read_text().replace(SVG_NAMESPACE, "")
        assert re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE) is None, path.name


def test_data_in_a_page_cannot_close_its_script_block():
    data = {"name": "</script><script>alert(1)</script>", "and": "a & b > c"}
    text = json_for_html(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == data
    html = page("run.html", data, inline=True)
    assert html.count("</script>") == html.count("<script")  # each block closed once, by its own tag
