"""Scrapy settings and every NEWSARCHIVE_* default; the one module that reads os.environ.

Override any of them with ``-s NAME=VALUE`` (``scrapy`` or ``newsarchive crawl``) or, for the ones
read from the environment below, with an environment variable of the same name.
"""

from __future__ import annotations

import os
from pathlib import Path

from newsarchive import __version__

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
# ... and here when that folder cannot take them either: a full data disk fails the database and
# data/deadletter at once, so the fallback lives off it, in the user's state folder (which systemd's
# PrivateTmp and ProtectSystem leave writable and keep across reboots). Empty: no fallback.
NEWSARCHIVE_DEADLETTER_FALLBACK_DIR = os.environ.get(
    "NEWSARCHIVE_DEADLETTER_FALLBACK_DIR",
    str(
        Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        / "newsarchive"
        / "deadletter"
    ),
)

# --- crawling ----------------------------------------------------------------------------------
NEWSARCHIVE_PAGE_SIZE = 50  # listing rows per API request (East Money caps it at 200)
NEWSARCHIVE_MAX_PAGES = 5  # listing pages per column unless the spider gets -a pages=N
# Rows per database transaction in the store pipeline, written when the batch is full or its oldest
# row has waited NEWSARCHIVE_STORE_BATCH_SECONDS (0: only when full), and when the spider closes.
# A killed crawl loses at most what was not yet written, and the next run fetches it again.
NEWSARCHIVE_STORE_BATCH_SIZE = 200
NEWSARCHIVE_STORE_BATCH_SECONDS = 10.0
# While the database is unreachable or locked, the store retries with backoff (0.5 s, doubling, at
# most 30 s apart) for this long, then stops the crawl and dead-letters what it could not write.
NEWSARCHIVE_DB_RETRY_SECONDS = 120.0
NEWSARCHIVE_DB_BUSY_TIMEOUT = 30.0  # SQLite: seconds a write waits for another process's lock
# Stored articles are not requested again, except those published less than this many hours ago
# (news is often corrected in its first hours; a changed one is revised). 0: never re-fetch.
NEWSARCHIVE_REFETCH_HOURS = 0.0
# One run per job (spider + arguments) at a time: a second one exits with ALREADY_RUNNING (5).
NEWSARCHIVE_JOB_LOCK = True
# Seconds between checks that the run still holds its job lock (taken back if it had gone, the run
# stopped if another run took it). 0: none; a PostgreSQL lock connection's end is noticed at once.
NEWSARCHIVE_JOB_LOCK_CHECK_SECONDS = 2.0
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

# --- politeness (docs/crawling.md "Politeness and blocks") -------------------------------------------------
# East Money blocks at >5 req/s, >=10 connections, >=200/min or >=300/5 min per IP, and an empty or
# non-browser User-Agent (reference eastmoney.md §4, "serial, >=1 s + jitter"). newsarchive.blocks
# puts every host of a site (np-listapi. and finance.eastmoney.com) in one download slot, so these
# limits hold per site: one request at a time, 1.0-1.5 s apart (1.25 s on average, 240 per 5 min).
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "newsarchive"  # robots.txt groups for "newsarchive" apply, else "*"
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# A response yields at most one item (an article page) or a page of requests (a listing); Scrapy's
# default of 100 starts 100 asyncio workers for every response, a fifth of the reactor's time.
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = 1.25
DOWNLOAD_DELAY_JITTER = 0.2  # ±20 % around DOWNLOAD_DELAY, so requests do not tick like a metronome
AUTOTHROTTLE_ENABLED = True  # slows down further when the site answers slowly, never below the delay
AUTOTHROTTLE_START_DELAY = 1.25
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
# An article page is 20-200 KB; 8 MB is no article (an error dump, a runaway stream): refused
# before it is read, counted as download error too_large, fetched again next run.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_TIMES = 3
# 403 is the site's block signal: retrying it only deepens the block. 429 is retried by
# newsarchive.blocks.BlockMiddleware once its Retry-After has passed, never at once.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
# After a block (403, 429 without Retry-After, HTTP 200 with an empty or passportWeb-only body, a
# list API answering code 0) the site gets no request for this many seconds.
NEWSARCHIVE_BLOCK_PAUSE = 30.0
# After this many blocks in a row from one site, the run sends it nothing more (0: never give up).
NEWSARCHIVE_BLOCK_LIMIT = 3
# A 429 asking to wait longer than this (seconds) is not waited for: the site is given up instead.
NEWSARCHIVE_RETRY_AFTER_MAX = 120.0
# The User-Agent is a browser's (the site blocks anything else, §4) followed by a product token
# naming newsarchive and where to reach whoever runs it: set NEWSARCHIVE_CONTACT_URL to yours.
NEWSARCHIVE_CONTACT_URL = os.environ.get("NEWSARCHIVE_CONTACT_URL", "https://example.invalid/newsarchive")
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
USER_AGENT = f"{BROWSER_USER_AGENT} newsarchive/{__version__} (+{NEWSARCHIVE_CONTACT_URL})"
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/json;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9",
    "Referer": "https://finance.eastmoney.com/",
}
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19 starts a localhost HTTP server that runs any Python code sent to it, its token in a
# job file under ~/.local/state/scrapy/job_files (left behind by every SIGKILL). Nothing here uses it.
REMOTE_CONTROL_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("NEWSARCHIVE_LOG_LEVEL", "INFO")
LOG_FORMATTER = "newsarchive.logformatter.ArchiveLogFormatter"
# Log stamps in Asia/Shanghai with the offset, as every time newsarchive shows (newsarchive.logclock)
LOG_DATEFORMAT = "%Y-%m-%d %H:%M:%S%z"

DOWNLOADER_MIDDLEWARES = {
    # Where requests may go (newsarchive/hosts.py): before robots.txt, so a refused host is not even
    # asked for one; Scrapy's redirect middlewares replaced by ones refusing off-site targets.
    "newsarchive.hosts.HostPolicyMiddleware": 60,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "newsarchive.hosts.MetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "newsarchive.hosts.RedirectMiddleware": 600,
    # Scrapy's, with every request waiting for a robots.txt checked (see newsarchive/robots.py)
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newsarchive.robots.RobotsTxtMiddleware": 100,
    # Before RetryMiddleware (550), after HttpCompressionMiddleware (590): sees every decompressed
    # response, and a 429 before anything could retry it at once.
    "newsarchive.blocks.BlockMiddleware": 560,
    # Once another run took the job's lock, nothing more is sent: after every middleware that may
    # hold a request back (robots.txt, a block pause), so those are stopped too, and before Scrapy's
    # DownloaderStatsMiddleware (850), so a request refused is not counted as sent. The download
    # handler checks both fences again at the last moment (newsarchive.download).
    "newsarchive.joblock.JobLockFence": 840,
    # Once Ctrl-C stopped the run, nothing more is sent and abandoned downloads are not retried
    # (newsarchive.interrupt): placed as the job lock's fence, for the same reasons.
    "newsarchive.interrupt.StopFence": 845,
}
# newsarchive's handler for both schemes (newsarchive.download): the fences' last check, and the
# NEWSARCHIVE_REPLAY_ORIGIN routing; Scrapy's own HTTP handler sends the request.
DOWNLOAD_HANDLERS = {
    "http": "newsarchive.download.ArchiveDownloadHandler",
    "https": "newsarchive.download.ArchiveDownloadHandler",
}
EXTENSIONS = {
    "newsarchive.logclock.ShanghaiLogClock": 0,
    "newsarchive.archive.extension.WarcArchiveExtension": 500,
    "newsarchive.joblock.JobLockExtension": 100,
    "newsarchive.history.RunHistoryExtension": 505,
    "newsarchive.progress.ProgressExtension": 510,
}
ITEM_PIPELINES = {
    # first: titles, media names... become plain text before anything checks or derives from them
    "pipelines.plaintext.PlainTextPipeline": 50,
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.clean.CleanBodyPipeline": 200,
    "pipelines.dates.NormalizeDatesPipeline": 300,
    "pipelines.taxonomy.TaxonomyPipeline": 400,
    "pipelines.coverage.CoveragePipeline": 800,
    "pipelines.store.StorePipeline": 900,
}
