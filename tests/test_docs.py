"""The docs match the code: the README's test command is what CI runs, every setting, spider and
command is documented in its place in docs/ (a row of a table or a heading, not a mention in
passing) and every such entry names something that exists, and every link between the pages leads
somewhere."""

from __future__ import annotations

import inspect
import re

import click

from newsarchive import settings
from newsarchive.catalogue import spider_names, spiders
from newsarchive.cli import main
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


def _page(name: str) -> str:
    return PAGES[REPO / "docs" / name]


def _section(text: str, heading: str) -> str:
    """The part of a page under ``## heading``, up to the next heading of that level."""
    sections = re.split(r"^## ", text, flags=re.M)
    found = [section for section in sections if section.startswith(f"{heading}\n")]
    assert len(found) == 1, f"no single section ## {heading}"
    return found[0]


def _first_cells(text: str) -> list[set[str]]:
    """The code spans (`name`) in the first cell of every table row of ``text`` (headers and
    separators give empty sets)."""
    rows = re.findall(r"^\|([^|\n]*)\|", text, re.M)
    return [set(re.findall(r"`([^`]+)`", cell)) for cell in rows]


def _headings(text: str) -> list[str]:
    return re.findall(r"^#+ (.+)$", text, re.M)


def _environment_variables() -> set[str]:
    """The variables newsarchive/settings.py reads from the environment."""
    return set(re.findall(r"os\.environ\.get\(\s*\"(NEWSARCHIVE_\w+)\"", inspect.getsource(settings)))


def test_every_setting_is_documented() -> None:
    """Every ``NEWSARCHIVE_*`` setting (and variable settings.py reads) has its row in the table of
    docs/settings.md, and every row there names one."""
    names = {name for name in vars(settings) if name.startswith("NEWSARCHIVE_")}
    assert names
    known = names | _environment_variables()
    rows = [cell for cell in _first_cells(_page("settings.md")) if cell]
    documented = set().union(*rows)
    assert sorted(known - documented) == []
    assert [cell for cell in rows if not cell & known] == []  # a row for a setting that is gone
    missing = [name for name in names if f"`{name}`" not in DOCS]  # (implied; kept from before)
    assert not missing


def test_every_spider_is_documented() -> None:
    """Every spider, internal ones included, has its row in the table under "## Spiders" of
    docs/crawling.md, and every row there names one."""
    names = set(spiders(project_settings()))
    assert set(spider_names(project_settings())) <= names
    rows = [cell for cell in _first_cells(_section(_page("crawling.md"), "Spiders")) if cell]
    assert sorted(names - set().union(*rows)) == []
    assert [cell for cell in rows if not cell <= names] == []
    for name in spider_names(project_settings()):
        assert f"`{name}`" in DOCS


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def test_every_command_is_documented() -> None:
    """Every command of the click tree has its heading ``## `newsarchive PATH ARGS…` `` in
    docs/commands.md (its options are checked there by tests/test_cli.py), and every such
    heading names a command."""
    commands = {" ".join(("newsarchive", *path)) for path in _command_paths(main)}
    headings = [
        re.sub(r"( [A-Z_]+…?)+$", "", heading.strip("`"))
        for heading in _headings(_page("commands.md"))
        if heading.startswith("`newsarchive")
    ]
    assert sorted(commands - set(headings)) == []
    assert sorted(set(headings) - commands) == []
    assert len(headings) == len(set(headings))


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
    assert len(README.splitlines()) <= 200
