"""Feed claims: the rule that an article listed on the preferred feed (the 7x24 list) belongs to it.

A listing spider that finds a stored article on that feed asks the crawl's store to claim it
(newsarchive.store.owner.CrawlStore.claim: an order to the store, never an item), and reparse puts a
replayed article on that feed (newsarchive.archive.replay); both build the claim with
:func:`listing_claim`. The store applies it to the stored row
(newsarchive.db.repository.claim_for_feed); the same rule between two versions of an article is kept
inside the storing transaction (newsarchive.db.repository.store_articles).
"""

from __future__ import annotations

from dataclasses import dataclass

from newsarchive.items import PREFERRED_FEED, Article
from newsarchive.text.media import FAST_NEWS_CATEGORY, FAST_NEWS_TAG
from newsarchive.text.plain import plain_text


@dataclass(frozen=True)
class FeedClaim:
    """A stored article moved to the preferred feed: its feed, that feed's category and tags
    (pipelines/taxonomy.py gives a 7x24 article the same), and the feed's digest when it has one."""

    info_code: str
    feed: str = PREFERRED_FEED
    summary: str | None = None  # plain text; None keeps the summary the article has
    category: str = FAST_NEWS_CATEGORY
    tags: tuple[str, ...] = (FAST_NEWS_TAG,)

    def apply_to(self, article: Article) -> None:
        """Put ``article`` on the claimed feed, as the store moves a stored row: an article on it
        already is left alone (nothing moves an article off the preferred feed, nor changes it)."""
        if article.feed == self.feed:
            return
        article.feed = self.feed
        article.summary = self.summary or article.summary
        article.category, article.tags = self.category, list(self.tags)


def listing_claim(info_code: str, listing_feed: str, digest: str | None) -> FeedClaim | None:
    """The claim a row of ``listing_feed`` makes on article ``info_code``: None unless that listing
    is the preferred feed. ``digest`` (the row's summary) becomes plain single-line text, as the
    pipelines make an article's (newsarchive.text.plain)."""
    if listing_feed != PREFERRED_FEED:
        return None
    return FeedClaim(info_code, summary=plain_text(digest) if digest else None)
