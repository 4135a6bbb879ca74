"""Decode HTML bytes the way a careful browser would, for pages that lie about their charset.

Order: BOM, the HTTP header charset, a ``<meta>`` charset anywhere in the first 64 KB (never a
``<script charset>`` decoy), then UTF-8, then GB18030. Each candidate must decode strictly; the
first that does wins, so a GBK page served as ``charset=utf-8`` still comes out right.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
# <meta charset="gbk">, <meta http-equiv="Content-Type" content="text/html; charset=gb2312">,
# and the malformed httpequiv="ContentType" seen in the wild; only inside <meta ...> tags.
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_META_WINDOW = 65536
# GB2312 and GBK are subsets of GB18030: decoding with the superset never loses a character.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
}
_SINGLE_BYTE = {"cp437", "cp850", "koi8-r", "koi8-u", "mac-roman", "tis-620"}
CHARSET_UNDECLARED = "charset_undeclared"  # no BOM, header or <meta> charset: the bytes were sniffed
CHARSET_MISDECLARED = "charset_misdeclared"  # the declared charset could not decode the bytes
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """Charsets the response declares, most authoritative first (normalized, deduplicated)."""
    found: list[str] = []
    for bom, name in _BOMS:
        if body.startswith(bom):
            found.append(name)
    if content_type and (header := _HEADER_CHARSET.search(content_type)):
        found.append(header.group(1))
    if meta := _META_CHARSET.search(body[:_META_WINDOW]):
        found.append(meta.group(1).decode("ascii", "replace"))
    return _unique(_normalize(name) for name in found)


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Text of an HTML/JSON body; never raises (see :func:`decode_noting_charset`)."""
    return decode_noting_charset(body, content_type)[0]


def decode_noting_charset(body: bytes, content_type: str | None = None) -> tuple[str, str | None]:
    """Text of an HTML/JSON body, and what was odd about its charset: None when the first charset
    it declares decoded it, :data:`CHARSET_UNDECLARED` when it declares none (so it was sniffed),
    :data:`CHARSET_MISDECLARED` when what it declares does not decode it. Never raises.

    Single-byte charsets (ISO-8859-1 and kin) accept any bytes, so they can never be refuted by
    strict decoding: they are tried only after UTF-8 and GB18030 have failed.
    """
    declared = declared_charsets(body, content_type)
    multibyte = [name for name in declared if not _single_byte(name)]
    single = [name for name in declared if _single_byte(name)]
    for name in _unique([*multibyte, "utf-8", "gb18030", *single]):
        try:
            text = body.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        if not declared:
            return text, CHARSET_UNDECLARED if body.strip() else None
        agrees = name == declared[0] or _same_text(body, declared[0], text)
        return text, None if agrees else CHARSET_MISDECLARED
    # unreachable in practice: gb18030 maps every byte run
    return body.decode("utf-8", errors="replace"), CHARSET_MISDECLARED


def _same_text(body: bytes, charset: str, text: str) -> bool:
    """Whether ``charset`` decodes ``body`` to ``text`` (an ASCII page declaring latin-1 does)."""
    try:
        return body.decode(charset) == text
    except (UnicodeDecodeError, LookupError):
        return False


def _single_byte(name: str) -> bool:
    return name.startswith(("latin", "iso8859", "iso-8859", "cp125", "windows-125")) or name in _SINGLE_BYTE


def _normalize(name: str) -> str:
    lowered = name.strip().lower()
    try:
        canonical = codecs.lookup(lowered).name
    except LookupError:
        return lowered
    return _SUPERSETS.get(lowered, _SUPERSETS.get(canonical, canonical))


def _unique(names: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen
