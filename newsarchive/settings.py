"""Scrapy settings and every NEWSARCHIVE_* default; the one module that reads os.environ.

Override any of them with ``-s NAME=VALUE`` (``scrapy`` or ``newsarchive crawl``) or, for the ones
read from the environment below, with an environment variable of the same name.
"""

from __future__ import annotations

import os
from pathlib import Path

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# --- where things go ---------------------------------------------------------------------------
DATA_DIR = Path(os.environ.get("NEWSARCHIVE_DATA_DIR", "data"))
# Any SQLAlchemy URL; SQLite in data/ by default, postgresql+psycopg://… for a shared server.
NEWSARCHIVE_DATABASE_URL = os.environ.get(
    "NEWSARCHIVE_DATABASE_URL", f"sqlite:///{DATA_DIR / 'newsarchive.db'}"
)
# Raw responses are kept in WARC files so everything can be re-parsed later.
NEWSARCHIVE_WARC_ENABLED = os.environ.get("NEWSARCHIVE_WARC_ENABLED", "1") not in ("0", "false", "False")
NEWSARCHIVE_WARC_DIR = os.environ.get("NEWSARCHIVE_WARC_DIR", str(DATA_DIR / "warc"))
# Send every request to this origin (e.g. http://127.0.0.1:8000) with the original Host header;
# tests and the demo crawl the local sample site this way. Empty: go to the real hosts.
NEWSARCHIVE_REPLAY_ORIGIN = os.environ.get("NEWSARCHIVE_REPLAY_ORIGIN", "")
# Items that could not be written to the database are saved here as JSON Lines.
NEWSARCHIVE_DEADLETTER_DIR = os.environ.get("NEWSARCHIVE_DEADLETTER_DIR", str(DATA_DIR / "deadletter"))

# --- crawling ----------------------------------------------------------------------------------
NEWSARCHIVE_PAGE_SIZE = 50  # listing rows per API request (East Money caps it at 200)
NEWSARCHIVE_MAX_PAGES = 5  # listing pages per column unless the spider gets -a pages=N
# Rows per database transaction in the store pipeline; the tail is flushed when the spider closes.
NEWSARCHIVE_STORE_BATCH_SIZE = 50
# While the database is unreachable or locked, the store retries with backoff (0.5 s, doubling, at
# most 30 s apart) for this long, then stops the crawl and dead-letters what it could not write.
NEWSARCHIVE_DB_RETRY_SECONDS = 120.0
NEWSARCHIVE_DB_BUSY_TIMEOUT = 30.0  # SQLite: seconds a write waits for another process's lock
# Stored articles are not requested again, except those published less than this many hours ago
# (news is often corrected in its first hours; a changed one is revised). 0: never re-fetch.
NEWSARCHIVE_REFETCH_HOURS = 0.0
# One run per job (spider + arguments) at a time: a second one exits with ALREADY_RUNNING (5).
NEWSARCHIVE_JOB_LOCK = True
# A listing stops paging after this many pages in a row held nothing new (0: page to the limit).
NEWSARCHIVE_STOP_AFTER_KNOWN_PAGES = 1
# An article body (raw HTML) longer than this is dropped as body_too_large; real ones are < 100 k.
# 0: no limit.
NEWSARCHIVE_MAX_BODY_CHARS = 2_000_000
# Stored articles published within this many hours of a new one are checked for being the same
# story under another info_code (linked with duplicate_of, never dropped). 0 turns it off.
NEWSARCHIVE_NEAR_DUPLICATE_HOURS = 48.0
NEWSARCHIVE_PROGRESS_INTERVAL = 10.0  # seconds between progress lines on long runs (0: none)
NEWSARCHIVE_PROGRESS_STDERR = False  # progress to stderr instead of the log (the CLI turns this on)
NEWSARCHIVE_LOG_SUMMARY = True  # log the end-of-run summary (newsarchive's CLI prints it instead)

# East Money blocks at >5 req/s or >=10 connections per IP (reference §4): stay well below.
ROBOTSTXT_OBEY = (
    False  # JSON list endpoints the site's own pages call; politeness comes from the limits below
)
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% around DOWNLOAD_DELAY, so requests do not tick like a metronome
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.5
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 3
# 403 is the site's block signal: retrying it immediately only deepens the block.
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/json;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9",
    "Referer": "https://finance.eastmoney.com/",
}
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("NEWSARCHIVE_LOG_LEVEL", "INFO")
LOG_FORMATTER = "newsarchive.logformatter.ArchiveLogFormatter"

DOWNLOADER_MIDDLEWARES = {
    # Closest to the downloader, so every other middleware sees the original URL.
    "newsarchive.middlewares.ReplayOriginMiddleware": 990,
}
EXTENSIONS = {
    "newsarchive.archive.extension.WarcArchiveExtension": 500,
    "newsarchive.joblock.JobLockExtension": 100,
    "newsarchive.history.RunHistoryExtension": 505,
    "newsarchive.progress.ProgressExtension": 510,
}
ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.clean.CleanBodyPipeline": 200,
    "pipelines.dates.NormalizeDatesPipeline": 300,
    "pipelines.taxonomy.TaxonomyPipeline": 400,
    "pipelines.store.StorePipeline": 900,
}
