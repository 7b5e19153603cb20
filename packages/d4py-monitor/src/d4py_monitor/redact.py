"""Option values a run record must not keep: secrets by their key's name, and passwords in URLs."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["REDACTED", "redact"]

REDACTED = "***"
_SECRET_KEY = re.compile(r"pass(word|wd)?|pwd|secret|token|credential|api_?key|private_?key|auth", re.IGNORECASE)
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/?#@\s]*@", re.IGNORECASE)


def redact(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with secret-looking values replaced, and the user and password of URLs removed."""
    return {key: _redacted(key, value) for key, value in options.items()}


def _redacted(key: str, value: Any) -> Any:
    if value is not None and _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return _USERINFO.sub(rf"\g<scheme>{REDACTED}@", value)
    if isinstance(value, dict):
        return redact({str(k): v for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return [_redacted(key, item) for item in value]
    return value
