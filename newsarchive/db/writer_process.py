"""The store's :class:`~newsarchive.db.writer.BatchWriter` in a process of its own.

A crawl's reactor thread parses and cleans pages without a pause; a writer thread in the same
process (SQLAlchemy binding rows, numpy fingerprints, near-duplicate checks) had to take the GIL
from it at every step. Measured on 30,000 articles through the pipelines (bench/store_throughput),
the same writer in a child process took throughput from about 2,070 to 3,020 articles per second,
with the same rows and links.

The child is ``python -m newsarchive.db.writer_process``, started by the first batch (a quiet
scheduled run, with nothing to store, never starts it). It is not a ``multiprocessing`` child:
those import the parent's ``__main__`` again, and a script that runs a crawl without a main guard
(as Scrapy's "run from a script" examples do) would crawl a second time inside it. The two talk over the
child's stdin and stdout, one pickled message at a time: the settings, then a batch and its
:class:`BatchResult` (or the exception it raised), with the child's log records relayed to the
crawl's own loggers on the way.

The child writes one batch at a time, as a writer thread did: its one caller, the crawl's batch store
(newsarchive.store.batches), sends a batch only when the one before it is done, so this class keeps
no lock of its own. It is in a session of its own, so a
Ctrl-C in a terminal reaches only the crawl, which then closes the store: the last batch is
written and the child's stdin closed, which ends it. It ignores SIGINT (a systemd stop signals the
whole unit). If the crawl process dies without closing it (SIGKILL), its stdin reaches end of file
and it exits: a batch not yet committed is not stored, and the next run fetches it again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import IO, Any

from newsarchive.db.engine import open_database
from newsarchive.db.writer import BatchResult, BatchWriter
from newsarchive.items import Article
from newsarchive.store.claims import FeedClaim
from newsarchive.store.config import StoreConfig

_DONE, _FAILED, _LOG = "done", "failed", "log"
logger = logging.getLogger(__name__)


class WriterGone(RuntimeError):
    """The writer process ended (killed, or it crashed): nothing more can be written through it."""


class WriterProcess:
    """``write(articles, claims)`` stores a batch in the child (it blocks: the batch store calls
    it from a worker thread, which waits on a pipe, not on the GIL); ``close()`` ends the child.
    One call at a time: the caller keeps one batch in flight (newsarchive.store.batches)."""

    def __init__(self, config: StoreConfig, *, replace: bool = False) -> None:
        self.config = config
        self.replace = replace  # reparse: stored rows are rewritten (BatchWriter)
        self._child: subprocess.Popen[bytes] | None = None

    @property
    def started(self) -> bool:
        """Whether the child was started (by a first batch)."""
        return self._child is not None

    def _start(self) -> None:
        """Start the child if it is not running yet: the first write does, so a run that stores
        nothing (most five-minute runs) never pays for its start-up, half a second of CPU."""
        if self._child is None:
            self._child = subprocess.Popen(
                [sys.executable, "-m", "newsarchive.db.writer_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)},
                start_new_session=True,
            )
            logger.debug("started the store's writer process (pid %d)", self._child.pid)
            self._send((self.config, self.replace))

    def write(self, articles: Sequence[Article], claims: Sequence[FeedClaim]) -> BatchResult:
        """Store one batch (:meth:`BatchWriter.write`): returns its result or raises what it raised
        (StoreUnavailable included), or :class:`WriterGone`."""
        self._start()
        self._send((list(articles), list(claims)))
        kind, value = self._reply()
        if kind == _FAILED:
            raise value
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """End the child once it has finished its batch (its stdin closes, it exits)."""
        if self._child is None:
            return
        with contextlib.suppress(OSError):  # it was gone already
            self._pipes()[0].close()
        with contextlib.suppress(WriterGone):  # relays what it logs while closing, up to its end
            self._reply()
        self._child.wait()
        self._pipes()[1].close()

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        """The child's stdin and stdout."""
        assert self._child is not None and self._child.stdin is not None and self._child.stdout is not None
        return self._child.stdin, self._child.stdout

    def _send(self, message: Any) -> None:
        try:
            to_child = self._pipes()[0]
            pickle.dump(message, to_child, protocol=pickle.HIGHEST_PROTOCOL)
            to_child.flush()
        except (OSError, ValueError) as error:  # a broken pipe, or closed already
            raise WriterGone(f"the writer process has ended ({error})") from None

    def _reply(self) -> tuple[str, Any]:
        """The child's next message that is not a log record, relaying the log records before it."""
        while True:
            kind, value = self._receive()
            if kind != _LOG:
                return kind, value
            _relay(value)

    def _receive(self) -> tuple[str, Any]:
        try:
            message: tuple[str, Any] = pickle.load(self._pipes()[1])
        except (EOFError, OSError, pickle.UnpicklingError) as error:
            status = self._child.poll() if self._child is not None else None
            raise WriterGone(f"the writer process has ended (exit status {status}): {error}") from None
        return message


def _relay(record: dict[str, Any]) -> None:
    """Hand a record logged in the child to the logger of the same name in the crawl process."""
    logger = logging.getLogger(record["name"])
    if logger.isEnabledFor(record["levelno"]):
        logger.handle(logging.makeLogRecord(record))


# --- In the child --------------------------------------------------------------------------------


class _Outbox(logging.Handler):
    """Sends the child's log records to the crawl process, between the protocol's messages."""

    def __init__(self, out: IO[bytes]) -> None:
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        fields = {**vars(record), "msg": record.getMessage(), "args": None, "exc_info": None}
        # a crawl that is gone has nobody to tell (serve notices at its next message)
        with contextlib.suppress(OSError):
            pickle.dump((_LOG, fields), self.out, protocol=pickle.HIGHEST_PROTOCOL)


def serve(source: IO[bytes], out: IO[bytes]) -> None:
    """The child's loop: the store's configuration, then batches until end of file."""
    root = logging.getLogger()
    root.handlers = [_Outbox(out)]
    root.setLevel(logging.INFO)
    try:
        config, replace = pickle.load(source)
    except (EOFError, pickle.UnpicklingError):  # the crawl ended (or died) before this process was ready
        return
    # unchecked: the crawl's owner of the database (newsarchive.store.owner) checked it once
    engine = open_database(config.url, check_schema=False, busy_timeout=config.busy_timeout)
    writer = BatchWriter.for_store(engine, config, replace=replace)
    try:
        while True:
            try:
                articles, claims = pickle.load(source)
            except (EOFError, pickle.UnpicklingError):  # the crawl closed the store, or died mid-send
                break
            try:
                reply: tuple[str, Any] = (_DONE, writer.write(articles, claims))
            except Exception as error:  # the crawl process decides: it dead-letters the batch
                reply = (_FAILED, _sendable(error))
            try:
                pickle.dump(reply, out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()
            except BrokenPipeError:  # the crawl died while this batch was written: it is stored,
                break  # and the next run finds it there
    finally:
        engine.dispose()


def _sendable(error: Exception) -> Exception:
    """The error itself if it survives pickling, else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the protocol owns stdout; anything else printed goes to stderr instead
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, out)
    with contextlib.suppress(OSError):  # closing a pipe nobody reads any more
        out.close()


if __name__ == "__main__":
    main()
