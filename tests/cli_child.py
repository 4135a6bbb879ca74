"""``python -m newsarchive ARGS`` in a forked child of the test process, not in a new interpreter.

A new interpreter pays for importing Scrapy, Twisted, SQLAlchemy, lxml and numpy (about a second
of CPU, more on a loaded machine) at every command, and the end-to-end tests run hundreds of
commands. A child forked from the test process has them imported already. It is made to look like
a fresh ``python -m newsarchive`` everywhere the command can tell:

- stdout and stderr go to files of their own; every other inherited descriptor is closed (as
  ``subprocess.run`` closes them), so a listening socket of a sample site the test stops refuses
  connections, and the child cannot write to the test's captured output;
- the working directory, ``os.environ`` (and ``TZ``, through ``time.tzset``), ``sys.argv`` and the
  first ``sys.path`` entry are those of the command; the project's own modules (``newsarchive``,
  ``spiders``, ``pipelines``) are imported again, so the settings read the command's environment
  and nothing a test patched in them leaks into the command;
- logging, warnings, signal handlers, exception hooks, asyncio's event loop policy, faulthandler
  and the exit handlers are put back as a new interpreter has them; the test process's exit
  handlers and finalizers (its temporary folders) never run in the child;
- the exit code is the one the interpreter would give: ``sys.exit``'s code, 1 and a traceback for
  an exception, death by SIGINT for an unhandled KeyboardInterrupt.

The test process holds threads (the sample site's server, its handlers), so the child touches
nothing of theirs: it only runs the command and ends with ``os._exit``, never returning into
pytest. Forking is done only from the main thread and only while no Twisted reactor is installed
in the test process (a reactor cannot be run twice); otherwise, and for tests that signal the
command (Ctrl-C, SIGKILL: they start ``python -m newsarchive`` with ``subprocess`` themselves), a
real new process runs it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import faulthandler
import gc
import logging
import os
import runpy
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import IO, Any, NoReturn

PROJECT_PACKAGES = ("newsarchive", "spiders", "pipelines")
# Set to 1, every command runs in a new interpreter, as before (to compare, or to rule the fork out).
NEW_INTERPRETER_VARIABLE = "NEWSARCHIVE_TEST_CLI_NEW_INTERPRETER"
# logging.Formatter's clock before any test ran (newsarchive.logclock replaces it in a crawl).
_PRISTINE_LOG_CLOCK = logging.Formatter.converter
# A new interpreter's warning filters (no -W option, no PYTHONWARNINGS), first match first.
_DEFAULT_WARNING_FILTERS: tuple[tuple[str, type[Warning], str], ...] = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)
# Objects of the test process the child replaced: kept referenced so that nothing the child does
# deallocates them (their finalizers would close descriptor numbers the child reuses).
_KEPT: list[Any] = []


def fork_refused(env: Mapping[str, str] | None = None) -> str | None:
    """Why a command with environment ``env`` (default: this process's) cannot run in a forked
    child now (None: it can)."""
    if (os.environ if env is None else env).get(NEW_INTERPRETER_VARIABLE) == "1":
        return f"{NEW_INTERPRETER_VARIABLE}=1"
    if not hasattr(os, "fork"):
        return "os.fork is not available"
    if threading.current_thread() is not threading.main_thread():
        return "not called from the main thread (a fork copies only the calling thread)"
    if "twisted.internet.reactor" in sys.modules:
        return "a Twisted reactor is installed in the test process"
    return None


def run_command(
    args: Sequence[str], *, cwd: os.PathLike[str] | str, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """``python -m newsarchive ARGS`` with this working directory and exactly this environment, as
    ``subprocess.run(..., capture_output=True, text=True, timeout=timeout)`` would run it: the
    same CompletedProcess, the same TimeoutExpired (after killing it)."""
    argv = [sys.executable, "-m", "newsarchive", *args]
    if fork_refused(env) is not None:
        return subprocess.run(
            argv, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
        )
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with contextlib.suppress(ValueError, OSError):  # nothing buffered here is written twice
            sys.stdout.flush()
            sys.stderr.flush()
        with warnings.catch_warnings():
            # Python 3.12 warns about forking a process with threads: the child touches none of
            # theirs (module docstring).
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            _child(list(args), os.fspath(cwd), dict(env), out.fileno(), err.fileno())
        try:
            returncode = _wait(pid, timeout)
        except subprocess.TimeoutExpired as expired:
            raise subprocess.TimeoutExpired(argv, timeout, _text(out), _text(err)) from expired
        return subprocess.CompletedProcess(argv, returncode, _text(out), _text(err))


def _wait(pid: int, timeout: float) -> int:
    """The child's return code as ``Popen.returncode`` gives it (``-N`` for death by signal N);
    after ``timeout`` seconds it is killed and reaped, and TimeoutExpired raised."""
    deadline = time.monotonic() + timeout
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired([str(pid)], timeout)
            if pidfd is not None:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(left, 0.01))
    except BaseException:  # the timeout, or Ctrl-C in pytest: never leave the child behind
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        raise
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _text(stream: IO[bytes]) -> str:
    """What ``text=True`` makes of captured bytes: the locale's encoding, universal newlines."""
    stream.seek(0)
    data = stream.read().decode(_encoding())
    return data.replace("\r\n", "\n").replace("\r", "\n")


def _encoding() -> str:
    """The encoding a new interpreter gives its standard streams here (the locale's, or UTF-8)."""
    original = sys.__stdout__
    return getattr(original, "encoding", None) or "utf-8"


def _child(args: list[str], cwd: str, env: dict[str, str], out: int, err: int) -> NoReturn:
    """Run the command in the forked child and end it; never returns, whatever happens."""
    code = 1
    try:
        _make_fresh(args, cwd, env, out, err)
        code = _run_main()
        _finish()
    except BaseException:  # something in this module went wrong: say so where the test looks
        with contextlib.suppress(BaseException):
            os.write(2, traceback.format_exc().encode("utf-8", "replace"))
    finally:
        os._exit(code)


def _make_fresh(args: list[str], cwd: str, env: dict[str, str], out: int, err: int) -> None:
    """Give the child the state of a new ``python -m newsarchive ARGS`` (see the module doc)."""
    gc.freeze()  # the test process's objects are never collected here (their finalizers run there)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # subprocess.run's close_fds=True
    encoding = _encoding()
    _KEPT.extend((sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__))
    try:  # subprocess.run leaves the child the test process's standard input
        sys.stdin = sys.__stdin__ = open(0, encoding=encoding, closefd=False)  # noqa: SIM115
    except OSError:  # none (descriptor 0 closed): the interpreter's stdin is None then
        sys.stdin = sys.__stdin__ = None  # type: ignore[assignment]
    sys.stdout = sys.__stdout__ = open(1, "w", encoding=encoding, closefd=False)  # noqa: SIM115
    sys.stderr = sys.__stderr__ = open(  # noqa: SIM115
        2, "w", encoding=encoding, errors="backslashreplace", closefd=False, buffering=1
    )
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    sys.argv = ["-m", *args]
    sys.path.insert(0, os.getcwd())  # what -m puts first
    for name in [name for name in sys.modules if name.split(".", 1)[0] in PROJECT_PACKAGES]:
        del sys.modules[name]
    _fresh_exit_handlers()
    _fresh_signals()
    _fresh_logging()
    _fresh_warnings()
    sys.excepthook = sys.__excepthook__
    sys.unraisablehook = sys.__unraisablehook__
    threading.excepthook = threading.__excepthook__
    asyncio.set_event_loop_policy(None)
    asyncio.events._set_running_loop(None)
    faulthandler.disable()


def _fresh_exit_handlers() -> None:
    """Only what the command registers runs at its exit: never the test process's handlers, nor
    the finalizers of its objects (a TemporaryDirectory of a test would be deleted)."""
    atexit._clear()
    for finalizer in list(weakref.finalize._registry):  # type: ignore[attr-defined]
        finalizer.detach()
    weakref.finalize._registered_with_atexit = False  # type: ignore[attr-defined]
    atexit.register(logging.shutdown)  # logging registers it when first imported


def _fresh_signals() -> None:
    for number in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError, TypeError):
            if callable(signal.getsignal(number)):
                signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as the interpreter starts
    signal.set_wakeup_fd(-1)
    signal.setitimer(signal.ITIMER_REAL, 0)


def _fresh_logging() -> None:
    """No handler (pytest's capture handlers, a crawl's root handler), the root at WARNING, the
    project's loggers as configured by nobody, the machine's clock in time stamps."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    root.filters.clear()
    logging.disable(logging.NOTSET)
    logging._handlerList.clear()  # type: ignore[attr-defined]  # logging.shutdown: the child's only
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and name.split(".", 1)[0] in PROJECT_PACKAGES:
            logger.handlers.clear()
            logger.filters.clear()
            logger.setLevel(logging.NOTSET)
            logger.propagate, logger.disabled = True, False
    logging.Formatter.converter = _PRISTINE_LOG_CLOCK
    scrapy_log = sys.modules.get("scrapy.utils.log")
    if scrapy_log is not None and hasattr(scrapy_log, "_scrapy_root_handler"):
        scrapy_log._scrapy_root_handler = None


def _fresh_warnings() -> None:
    """A new interpreter's filters, and warnings printed to stderr (under pytest they are recorded
    in a list nobody would read)."""
    warnings.resetwarnings()
    for action, category, module in reversed(_DEFAULT_WARNING_FILTERS):
        warnings.filterwarnings(action, category=category, module=module)  # type: ignore[arg-type]
    warnings.showwarning = _show_warning


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: IO[str] | None = None,
    line: str | None = None,
) -> None:
    with contextlib.suppress(OSError, ValueError):
        (file or sys.stderr).write(warnings.formatwarning(message, category, filename, lineno, line))


def _run_main() -> int:
    """Run ``newsarchive`` as -m runs it; the exit status the interpreter would give."""
    try:
        runpy.run_module("newsarchive", run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        return _exit_status(exit_.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        _flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # the interpreter dies by SIGINT (bpo-1054041)
        os.kill(os.getpid(), signal.SIGINT)
        return 130
    except BaseException:
        sys.excepthook(*sys.exc_info())
        return 1
    return 0


def _exit_status(code: object) -> int:
    """The status the interpreter exits with for ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(OSError, ValueError):
        print(code, file=sys.stderr)
    return 1


def _finish() -> None:
    """What the interpreter does at exit: wait for non-daemon threads, run the exit handlers,
    flush the standard streams."""
    threading._shutdown()  # type: ignore[attr-defined]  # as multiprocessing's forked children do
    atexit._run_exitfuncs()
    _flush()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
