"""The README matches the code: its test command is what CI runs, every setting and spider is documented."""

from __future__ import annotations

import re

from newsarchive import settings
from newsarchive.runner import project_settings, spider_names
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    test_command = next(block for block in blocks if "pytest" in block)
    install_and_test = test_command.split(". .venv/bin/activate && ", 1)[1]
    assert install_and_test in (REPO / ".ci" / "run").read_text()


def test_every_setting_is_documented() -> None:
    names = [name for name in vars(settings) if name.startswith("NEWSARCHIVE_")]
    assert names
    missing = [name for name in names if f"`{name}`" not in README]
    assert not missing


def test_every_spider_is_documented() -> None:
    for name in spider_names(project_settings()):
        assert f"`{name}`" in README
