"""Values a run record, a log or an error message must not show: secrets by their key's name, and passwords in URLs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

__all__ = ["REDACTED", "redact", "redact_url", "scrub"]

REDACTED = "***"
_SECRET_KEY = re.compile(r"pass(word|wd)?|pwd|secret|token|credential|api_?key|private_?key|auth", re.IGNORECASE)
# Up to the last "@" of the authority: a password with an unescaped "@" in it is hidden whole.
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/?#\s]*@", re.IGNORECASE)
_PARAMETER = re.compile(r"(?P<name>[?&;][^=&#;]*)=(?P<value>[^&#;]*)")


def redact(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with secret-looking values replaced, and the user and password of URLs removed."""
    return {key: _redacted(key, value) for key, value in options.items()}


def redact_url(url: str) -> str:
    """``url`` as messages may show it: without what comes before its last ``@`` (user and password), and
    with the values of secret-looking query parameters (``tlsCertificateKeyFilePassword=...``) hidden.

    A string that is not quite a URL (``mongodb//user:pw@host``) loses all it has before its last ``@``.
    """
    scheme, separator, rest = url.partition("://")
    if "@" in rest if separator else "@" in url:
        url = (
            f"{scheme}://{REDACTED}@{rest.rpartition('@')[2]}" if separator else f"{REDACTED}@{url.rpartition('@')[2]}"
        )
    return _PARAMETER.sub(_hide_parameter, url)


def _hide_parameter(match: re.Match[str]) -> str:
    return f"{match['name']}={REDACTED}" if _SECRET_KEY.search(match["name"]) else match[0]


def scrub(text: str, url: str) -> str:
    """``text`` (an error message about ``url``) with ``url``'s user and password, as given or unquoted, replaced."""
    rest = url.partition("://")[2]
    userinfo = rest.rpartition("@")[0] if "@" in rest else ""
    password = userinfo.partition(":")[2]
    secrets = {userinfo, unquote(userinfo), password, unquote(password)}
    secrets |= {m["value"] for m in _PARAMETER.finditer(url) if _SECRET_KEY.search(m["name"])}
    for secret in sorted(secrets - {""}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _USERINFO.sub(rf"\g<scheme>{REDACTED}@", text)


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
