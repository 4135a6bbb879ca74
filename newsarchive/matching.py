"""Nothing matched: which of a run's spider arguments matched nothing (issue 14), from its counts.

A mistyped ``-a media=…`` or column in a scheduled job must fail loudly rather than pass as "nothing
new". Spiders count, for every value of a checked argument, the listed rows it matched
(``newsarchive/matched/<argument>=<value>``): for a listing argument (``columns``, ``column``) the
rows its listing listed, counted once its first page was read; for a filter (``media``) the rows it
kept, next to the rows checked against the filter (``newsarchive/checked/<argument>``). A listing
whose first page answered 404 is counted under ``newsarchive/not_found/<argument>=<value>``. Every
value must match something: one column of several that listed nothing is a finding too. A filter
is judged only when rows were checked against it (a run that listed nothing has its columns to
blame). A listing whose first page could not be read for another reason (a timeout, a 500, a
block) is not judged here: that is an error of the run.

Pure functions; :class:`newsarchive.summary.RunSummary` turns the findings into the exit code 6
and the run status ``nothing_matched``. Documented in docs/crawling.md ("When nothing matches").
"""

from __future__ import annotations

from collections.abc import Mapping

NOT_FOUND_NOTE = "HTTP 404 on its first page"


def split_key(key: str) -> tuple[str, str]:
    """``columns=344`` → ("columns", "344"): argument names hold no ``=``, values may."""
    argument, _, value = key.partition("=")
    return argument, value


def unmatched(
    matched: Mapping[str, int],
    not_found: Mapping[str, int],
    checked: Mapping[str, int],
    given: Mapping[str, str],
) -> list[str]:
    """One line per argument with a value that matched nothing, naming the argument as given.

    ``matched`` and ``not_found`` are keyed ``<argument>=<value>``, ``checked`` by filter argument,
    ``given`` holds the arguments as given with ``-a`` (absent: the spider's default was used)."""
    values: dict[str, dict[str, str | None]] = {}  # argument -> value -> None (matched) or a note
    for key, rows in matched.items():
        argument, value = split_key(key)
        values.setdefault(argument, {})[value] = None if rows else ""
    for key, answered in not_found.items():
        if answered:
            argument, value = split_key(key)
            values.setdefault(argument, {})[value] = NOT_FOUND_NOTE
    lines = []
    for argument in sorted(values):
        missed = {value: note for value, note in values[argument].items() if note is not None}
        if not missed:
            continue
        named = f"-a {argument}={given[argument]}" if argument in given else f"the default {argument}"
        if argument in checked:
            if not checked[argument]:  # nothing was listed to check the filter against
                continue
            lines.append(_filter_line(named, list(missed), values[argument], checked[argument]))
            continue
        parts = [
            f"column {value} listed nothing" + (f" ({note})" if note else "")
            for value, note in missed.items()
        ]
        lines.append(f"{named}: {'; '.join(parts)}")
    return lines


def _filter_line(named: str, missed: list[str], every: Mapping[str, object], rows: int) -> str:
    listed = f"{rows} listed article" + ("" if rows == 1 else "s")
    if len(every) == 1:
        return f"{named} matched none of the {listed}"
    return f"{named}: {', '.join(missed)} matched none of the {listed}"
