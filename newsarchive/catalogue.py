"""The spiders a user can run, as the commands present them: names, one line each, their arguments.

One place answers "which spiders are there and what do they take", for the checks made before a run
(unknown spider, internal spider, bad argument: :class:`JobError`, nothing runs), for
``newsarchive spiders`` and for the commands' help. Internal spiders (``reparse``, run by
``newsarchive reparse``) are never offered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scrapy.settings import Settings

from newsarchive.arguments import WINDOW, ArgumentError, SpiderArgument


class JobError(ValueError):
    """A job that must not start (unknown spider, bad argument, broken site file): one line, plus
    the accepted arguments where that helps."""

    def __init__(self, message: str, usage: list[str] | None = None) -> None:
        super().__init__(message)
        self.usage = usage or []


_SETTING = re.compile(r"\bNEWSARCHIVE_[A-Z_]+\b")


@dataclass(frozen=True)
class SpiderInfo:
    name: str
    description: str
    arguments: tuple[SpiderArgument, ...] = field(default_factory=tuple)  # its own
    accepted: tuple[SpiderArgument, ...] = field(default_factory=tuple)  # its own and since / until
    internal: bool = False

    def usage(self, settings: Settings | None = None) -> list[str]:
        """``accepted arguments of eastmoney:`` and one line per argument."""
        if not self.accepted:
            return [f"{self.name} takes no arguments"]
        lines = (argument_line(argument, settings) for argument in self.accepted)
        return [f"accepted arguments of {self.name}:", *(f"  {line}" for line in lines)]


def argument_line(argument: SpiderArgument, settings: Settings | None) -> str:
    """The argument's usage line, a setting named in its default followed by the setting's value."""
    if settings is None:
        return argument.usage()
    default = _SETTING.sub(lambda m: f"{m.group()}={settings.get(m.group())}", argument.default)
    return argument.usage(default)


def spiders(settings: Settings) -> dict[str, SpiderInfo]:
    """Every spider by name, internal ones included; a broken site file is a :class:`JobError`."""
    classes = _classes(settings)
    return {name: _info(name, classes[name]) for name in sorted(classes)}


def spider_names(settings: Settings) -> list[str]:
    """The spiders a user can name (internal ones left out), sorted."""
    return [name for name, info in spiders(settings).items() if not info.internal]


def check_job(
    spider: str, arguments: Mapping[str, str], settings: Settings, *, allow_internal: bool = False
) -> None:
    """Raise :class:`JobError` unless ``spider`` exists (and is public, unless ``allow_internal``)
    and takes ``arguments``: the checks the spider itself makes, made before anything runs."""
    classes = _classes(settings)
    known = {name: _info(name, classes[name]) for name in sorted(classes)}
    info = known.get(spider)
    if info is None or (info.internal and not allow_internal):
        public = ", ".join(name for name, other in known.items() if not other.internal)
        hint = "; use `newsarchive reparse FILE…`" if spider == "reparse" else ""
        raise JobError(f"unknown spider {spider!r} (available: {public}){hint}")
    try:
        classes[spider].check_arguments(dict(arguments))
    except ArgumentError as error:
        raise JobError(str(error), info.usage(settings)) from None


def describe(settings: Settings) -> str:
    """What ``newsarchive spiders`` prints: each public spider, its line, its own arguments, then
    the date window every listing spider takes."""
    lines: list[str] = []
    for info in spiders(settings).values():
        if info.internal:
            continue
        lines.append(f"{info.name}: {info.description}")
        lines += [f"    {argument_line(argument, settings)}" for argument in info.arguments]
    lines.append("every spider above also takes a date window (what `newsarchive backfill` sets):")
    lines += [f"    {argument_line(argument, settings)}" for argument in WINDOW]
    return "\n".join(lines)


def _classes(settings: Settings) -> dict[str, Any]:
    from scrapy.spiderloader import SpiderLoader

    from newsarchive.sites.loader import SiteFileError

    try:
        loader = SpiderLoader.from_settings(settings)
        return {name: loader.load(name) for name in loader.list()}
    except SiteFileError as error:
        raise JobError(str(error)) from None


def _info(name: str, cls: Any) -> SpiderInfo:
    accepted = getattr(cls, "accepted_arguments", None)
    return SpiderInfo(
        name,
        getattr(cls, "description", "") or name,
        tuple(getattr(cls, "arguments", ())),
        tuple(accepted()) if accepted else (),
        bool(getattr(cls, "internal", False)),
    )
