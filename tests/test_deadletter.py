"""Dead-letter files on failing disks (issue 13 point 10): a fallback folder takes what the first
cannot, and a write lands whole or not at all."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsarchive.deadletter import DeadLetterError, DeadLetterFile, read_dead_letters
from newsarchive.items import Article
from newsarchive.text.dates import SHANGHAI
from tests.conftest import fill_disk, small_disk


def article(number: int, body: str = "正文") -> Article:
    return Article(
        info_code=f"NW2022042923662803{number:02d}",
        url=f"https://finance.eastmoney.com/a/2022042923662803{number:02d}.html",
        feed="eastmoney",
        title=f"标题 {number}",
        published_at=datetime(2022, 4, 29, 15, 3, 20, tzinfo=SHANGHAI),
        media="证券日报网",
        category="zhengquanribaowang",
        tags=["证券日报网新闻"],
        body_html=f"<p>{body}</p>",
        body_text=body,
        fetched_at=datetime(2026, 11, 24, 1, 0, tzinfo=UTC),
    )


def codes(path: Path) -> list[str]:
    return [item.info_code for _, item in read_dead_letters(path)]  # type: ignore[union-attr]


def test_items_go_to_the_first_folder_that_takes_them(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    letters = DeadLetterFile([blocked / "deadletter", tmp_path / "fallback"], "eastmoney")
    path = letters.write([article(1), article(2)])
    assert path.parent == tmp_path / "fallback" and letters.in_fallback
    assert letters.write([article(3)]) == path  # later writes follow
    assert codes(path) == ["NW202204292366280301", "NW202204292366280302", "NW202204292366280303"]
    assert letters.count == 3


def test_no_folder_taking_them_is_one_error_naming_each(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("x")
    letters = DeadLetterFile([blocked / "a", blocked / "b"], "eastmoney")
    with pytest.raises(DeadLetterError) as raised:
        letters.write([article(1)])
    assert str(blocked / "a") in str(raised.value) and str(blocked / "b") in str(raised.value)
    assert letters.count == 0


def test_a_full_disk_never_leaves_half_a_line(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 256) as disk:
        letters = DeadLetterFile([disk / "deadletter"], "eastmoney")
        path = letters.write([article(1)])
        fill_disk(disk, leave_bytes=0)
        with pytest.raises(DeadLetterError):
            letters.write([article(2, body="长" * 20_000)])  # far more than the page left
        lines = path.read_text(encoding="utf-8").splitlines()
        assert [json.loads(line)["info_code"] for line in lines] == ["NW202204292366280301"]
        assert letters.count == 1


def test_a_first_write_that_fails_leaves_no_empty_file(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 256) as disk:
        (disk / "deadletter").mkdir()
        fill_disk(disk, leave_bytes=0)
        letters = DeadLetterFile([disk / "deadletter"], "eastmoney")
        with pytest.raises(DeadLetterError):
            letters.write([article(1, body="长" * 20_000)])
        assert list((disk / "deadletter").iterdir()) == []
