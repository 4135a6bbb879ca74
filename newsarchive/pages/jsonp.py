"""JSONP: a JSON payload wrapped in a callback (``jQuery123_456({...});``), as East Money's list APIs
answer when asked with a ``cb`` parameter. One pattern for the parsers (text) and the block detector
(the raw body, newsarchive.blocks)."""

from __future__ import annotations

import re
from typing import overload

# A callback name (letters, digits, _, $ and dots), the payload in parentheses, an optional semicolon.
_JSONP = re.compile(r"^\s*[\w$.]+\s*\((?P<body>.*)\)\s*;?\s*$", re.S)


@overload
def jsonp_payload(text: str) -> str | None: ...
@overload
def jsonp_payload(text: bytes) -> bytes | None: ...
def jsonp_payload(text: str | bytes) -> str | bytes | None:
    """The payload inside a JSONP callback, or None when ``text`` is not JSONP. A raw body is read
    as UTF-8 (the APIs' charset), so a callback name is the same name in either form."""
    if isinstance(text, bytes):
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            return None
        payload = jsonp_payload(decoded)
        return None if payload is None else payload.encode("utf-8")
    found = _JSONP.match(text)
    return None if found is None else found.group("body")
