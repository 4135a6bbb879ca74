"""The docs match the code: the README's test command is what CI runs, every setting and spider is
documented (README.md and docs/), and every link between the pages leads somewhere."""

from __future__ import annotations

import re

from newsarchive import settings
from newsarchive.catalogue import spider_names
from newsarchive.runner import project_settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
PAGES = {
    path: path.read_text(encoding="utf-8")
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
}
DOCS = "\n".join(PAGES.values())
_LINK = re.compile(r"\]\((?!https?:|mailto:)([^)#\s]*)(?:#([^)\s]+))?\)")


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    test_command = next(block for block in blocks if "pytest" in block)
    install_and_test = test_command.split(". .venv/bin/activate && ", 1)[1]
    assert install_and_test in (REPO / ".ci" / "run").read_text()


def test_every_setting_is_documented() -> None:
    names = [name for name in vars(settings) if name.startswith("NEWSARCHIVE_")]
    assert names
    missing = [name for name in names if f"`{name}`" not in DOCS]
    assert not missing


def test_every_spider_is_documented() -> None:
    for name in spider_names(project_settings()):
        assert f"`{name}`" in DOCS


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_link_between_the_pages_leads_somewhere() -> None:
    broken = []
    for page, text in PAGES.items():
        for target, anchor in _LINK.findall(re.sub(r"`[^`]*`", "", text)):  # code is not a link
            path = (page.parent / target).resolve() if target else page
            if not path.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path.read_text(encoding="utf-8")):
                broken.append(f"{page.name}: {target}#{anchor}")
    assert broken == []


def test_the_readme_stays_a_map() -> None:
    """Topic material belongs in docs/: the README is what, quick start, real use and a map."""
    assert len(README.splitlines()) <= 300
