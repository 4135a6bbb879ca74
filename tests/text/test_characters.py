"""The named character classes (newsarchive.text.characters) are what each step really drops or
escapes: the sanitizer and the cleaner (markup), plain-text fields, YAML scalars, dead-letter URLs
(issue 15: one owner for the classes, each behaviour kept)."""

from __future__ import annotations

import re
import sys

from newsarchive.deadletter import _url
from newsarchive.export.jekyll import yaml_string
from newsarchive.text import characters
from newsarchive.text.characters import (
    CONTROLS_IN_TEXT,
    INVISIBLE,
    NOT_IN_MARKUP,
    NOT_IN_URL,
    YAML_ESCAPED,
    character_class,
)
from newsarchive.text.clean import clean_body
from newsarchive.text.plain import plain_text
from newsarchive.text.sanitize import sanitize_html

URL = "https://finance.eastmoney.com/a/202112082207122266.html"
# Where the classes differ: C0, DEL, C1, the separators, format characters, surrogates, the end of
# the BMP; plus a run of ordinary characters.
SAMPLE = [
    chr(code)
    for code in (*range(0x00, 0x200), *range(0x2000, 0x2070), *range(0xD7FF, 0xE001), *range(0xFEFE, 0x10000))
]


def test_the_classes_are_built_from_the_named_blocks() -> None:
    assert NOT_IN_MARKUP == "\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff"
    assert CONTROLS_IN_TEXT == "\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff"
    assert YAML_ESCAPED == '"\\\\\x00-\x1f\x7f\x80-\x9f\u2028\u2029\ud800-\udfff'
    assert NOT_IN_URL == "\\s\x00-\x1f\x7f"


def test_markup_loses_exactly_the_characters_not_in_markup() -> None:
    for char in SAMPLE:
        unsafe = character_class(NOT_IN_MARKUP).fullmatch(char) is not None
        dropped = sanitize_html(f"<p>x{char}y</p>") == "<p>xy</p>"
        assert dropped == unsafe or char in "<>&", f"U+{ord(char):04X}"
        if unsafe:
            assert clean_body(f"<p>x{char}y</p>", URL).html == "<p>xy</p>", f"U+{ord(char):04X}"


def test_plain_text_drops_the_invisible_class() -> None:
    invisible = character_class(INVISIBLE)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if invisible.fullmatch(char):
            assert plain_text(f"x{char}y") == "xy", f"U+{code:04X}"


def test_yaml_escapes_exactly_its_class() -> None:
    escaped = character_class(YAML_ESCAPED)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        literal = yaml_string(char) == f'"{char}"'
        assert literal != bool(escaped.fullmatch(char)), f"U+{code:04X}"


def test_a_dead_letter_url_refuses_exactly_its_class() -> None:
    refused = character_class(NOT_IN_URL)
    for code in range(0x3100):
        char = chr(code)
        try:
            _url("NW202112082207122266", f"https://example.com/a{char}b.html")
        except ValueError:
            assert refused.fullmatch(char), f"U+{code:04X}"
        else:
            assert not refused.fullmatch(char), f"U+{code:04X}"


def test_every_module_derives_its_pattern_from_the_shared_classes() -> None:
    """No module keeps a copy of a class: each pattern is built from newsarchive.text.characters."""
    from newsarchive import deadletter
    from newsarchive.export import jekyll
    from newsarchive.text import clean, plain, sanitize

    assert sanitize._UNSAFE_CHARACTERS is clean._CONTROL_CHARS  # one compiled pattern for markup
    assert clean._CONTROL_CHARS.pattern == f"[{NOT_IN_MARKUP}]"
    assert clean._NOT_PLAIN.pattern == f"[{CONTROLS_IN_TEXT}]|  "
    assert plain._INVISIBLE.pattern == f"[{INVISIBLE}]"
    assert jekyll._YAML_ESCAPES.pattern == f"[{YAML_ESCAPED}]"
    assert deadletter._NOT_IN_URL.pattern == f"[{NOT_IN_URL}]"
    assert re.compile(f"[{characters.C1_CONTROLS}]").fullmatch("\x85")
