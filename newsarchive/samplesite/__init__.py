"""Sample East Money site for tests and the offline demo: committed data/sample plus a loopback server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsarchive.samplesite.server import SampleSite

__all__ = ["SampleSite"]


def __getattr__(name: str) -> Any:
    # Imported lazily so ``python -m newsarchive.samplesite.server`` does not import the module twice.
    if name == "SampleSite":
        from newsarchive.samplesite.server import SampleSite

        return SampleSite
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
