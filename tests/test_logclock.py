"""Log stamps in Asia/Shanghai with the offset (issue 14: one time zone in every message)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from newsarchive.logclock import shanghai_clock
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.server import LOOPBACK_SETTINGS
from tests.conftest import run_cli


def test_the_clock_is_shanghai_wall_time_with_its_offset() -> None:
    stamp = shanghai_clock(0)

    assert time.strftime("%Y-%m-%d %H:%M:%S%z", stamp) == "1970-01-01 08:00:00+0800"
    assert (stamp.tm_gmtoff, stamp.tm_zone) == (8 * 3600, "CST")


def test_every_log_line_of_a_crawl_is_stamped_in_shanghai(tmp_path: Path, site: SampleSite) -> None:
    """The machine runs on UTC, as servers do: the stamps still say +0800, from the first line."""
    done = run_cli(
        "crawl", "eastmoney", "-a", "pages=1", "-a", "columns=344", "--log-level", "INFO",
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.start()}", *LOOPBACK_SETTINGS, cwd=tmp_path,
        env={"TZ": "UTC"},
    )  # fmt: skip

    stamps = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(\S*) \[", done.stderr, re.M)
    assert len(stamps) > 10, done.stderr[-2000:]
    assert {offset for _, offset in stamps} == {"+0800"}
