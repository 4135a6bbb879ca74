"""The test tiers: every collected test is marked ``fast``, or with what makes it slow.

- ``e2e``: it runs the command line (``run_cli``, a crawl helper), starts a process of its own
  (``subprocess``, ``multiprocessing``) or serves the sample site;
- ``crash``: it kills a process with SIGKILL (``signal.SIGKILL``, ``Popen.kill()``), not just to clean
  up (in a ``finally``, an ``except`` that fails the test, after ``poll()``/``is_alive()``, in
  ``__exit__`` or ``stop``);
- ``services``: it needs PostgreSQL (``postgres_url``, or the ``postgresql`` case of ``db_url`` and
  ``new_database``);
- ``fast``: none of these (parsers, cleaning, pipelines, the store, pure policies): ``pytest -m fast``.

A test's tier is found from what it uses, so a new test is placed without anyone marking it: the
fixtures it requests, and the names its code refers to, followed through every function and class
defined under ``tests/`` that it (or a fixture of ours) calls. ``conftest.pytest_collection_modifyitems``
calls :func:`assign`; tests/test_tiers.py checks the result.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import types
from collections.abc import Callable, Iterable
from typing import Any

import pytest

FAST, E2E, CRASH, SERVICES = "fast", "e2e", "crash", "services"
TIERS = (FAST, E2E, CRASH, SERVICES)
# Names (globals, attributes) whose use puts a test in a tier.
E2E_NAMES = frozenset(
    {"run_cli", "run_command", "SampleSite", "subprocess", "Popen", "fork", "multiprocessing"}
)
CRASH_SIGNAL = "SIGKILL"
CLEANUP_FUNCTIONS = frozenset({"__exit__", "stop", "close", "cleanup", "terminate"})
LIVENESS_CHECKS = frozenset({"poll", "is_alive"})
SERVICE_FIXTURES = frozenset({"postgres_url"})
SERVICE_PARAMETERS = frozenset({"postgresql"})  # the db_url / new_database case
# Machinery whose insides say nothing of the test (the forked CLI kills a child that overran).
NOT_FOLLOWED = frozenset({"tests.cli_child", "tests.tiers"})
ALL_ITEMS = pytest.StashKey[list[pytest.Item]]()  # every collected test, before -m deselects any


def assign(items: Iterable[pytest.Item]) -> None:
    """Mark every item with its tiers (:func:`tiers_of`)."""
    for item in items:
        for tier in sorted(tiers_of(item)):
            item.add_marker(tier)


def tiers_of(item: pytest.Item) -> set[str]:
    """``{"fast"}``, or the non-empty set of e2e/crash/services that apply to the item."""
    test = getattr(item, "function", None)
    if test is None:
        return {FAST}
    functions = reached([test, *_fixture_functions(item)])
    tiers = set()
    if set().union(*map(code_names, functions)) & E2E_NAMES:
        tiers.add(E2E)
    if any(map(kills, functions)):
        tiers.add(CRASH)
    params = getattr(getattr(item, "callspec", None), "params", {})
    fixtures = set(getattr(item, "fixturenames", ()))
    if fixtures & SERVICE_FIXTURES or any(
        name in fixtures and isinstance(value, str) and value in SERVICE_PARAMETERS
        for name, value in params.items()
    ):
        tiers.add(SERVICES)
    return tiers or {FAST}


def _fixture_functions(item: pytest.Item) -> list[Callable[..., Any]]:
    """The functions of our fixtures (defined under tests/) that the item uses, directly or not."""
    info = getattr(item, "_fixtureinfo", None)
    found = []
    for definitions in getattr(info, "name2fixturedefs", {}).values():
        if definitions:
            function = _unwrap(definitions[-1].func)  # the one that applies to this item
            if _ours(function):
                found.append(function)
    return found


def reached(roots: Iterable[Callable[..., Any]]) -> list[Callable[..., Any]]:
    """``roots`` and every function defined under tests/ that their code reaches through global
    names (a class: its methods, and a stand-in naming its bases, so ``class X(SampleSite)``
    counts as a use of SampleSite)."""
    found: list[Callable[..., Any]] = []
    seen: set[int] = set()
    pending: list[Any] = list(roots)
    while pending:
        target = _unwrap(pending.pop())
        if id(target) in seen:
            continue
        seen.add(id(target))
        if isinstance(target, type):
            found.append(_naming(base.__name__ for base in target.__mro__))
            pending.extend(_class_functions(target))
            continue
        if getattr(target, "__code__", None) is None:
            continue
        found.append(target)
        namespace = getattr(target, "__globals__", {})
        pending.extend(
            namespace[name] for name in code_names(target) if name in namespace and _ours(namespace[name])
        )
    return found


def referenced_names(roots: Iterable[Callable[..., Any]]) -> set[str]:
    """Every name the code of ``roots`` and of what it reaches (:func:`reached`) refers to."""
    return set().union(*map(code_names, reached(roots)))


def _naming(names: Iterable[str]) -> Callable[..., Any]:
    """A function whose code refers to ``names`` (the bases of a class, for :func:`code_names`)."""
    listed = sorted(set(names))
    namespace: dict[str, Any] = {}
    exec(f"def bases():\n    return ({', '.join(listed)},)", namespace)  # names only, never run
    function: Callable[..., Any] = namespace["bases"]
    return function


@functools.cache
def kills(function: Callable[..., Any]) -> bool:
    """Whether the function kills a process (SIGKILL, ``.kill()``) other than to clean up."""
    if function.__name__ in CLEANUP_FUNCTIONS:
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return CRASH_SIGNAL in code_names(function)
    return _KillFinder().found_in(tree)


class _KillFinder(ast.NodeVisitor):
    """Finds a kill outside cleanup code: ``finally`` blocks, ``except`` blocks that end failing the
    test, ``if x.poll() is None:`` bodies."""

    def __init__(self) -> None:
        self.found = False

    def found_in(self, tree: ast.AST) -> bool:
        self.visit(tree)
        return self.found

    def visit_Try(self, node: ast.Try) -> None:
        for child in (*node.body, *node.orelse):  # not its finally
            self.visit(child)
        for handler in node.handlers:  # a kill on the way to failing the test is cleanup
            if not (handler.body and _fails(handler.body[-1])):
                self.visit(handler)

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        liveness = any(
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in LIVENESS_CHECKS
            for call in ast.walk(node.test)
        )
        if not liveness:
            self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr == CRASH_SIGNAL:
            self.found = True
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == CRASH_SIGNAL:
            self.found = True

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and node.func.attr == "kill" and not node.args:
            self.found = True  # Popen.kill(), Process.kill(): SIGKILL
        self.generic_visit(node)


def code_names(function: Callable[..., Any]) -> set[str]:
    """The global and attribute names a function's code (nested functions included) refers to."""
    names: set[str] = set()
    stack = [getattr(function, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is None:
            continue
        names.update(code.co_names)
        stack.extend(const for const in code.co_consts if isinstance(const, types.CodeType))
    return names


def _fails(statement: ast.stmt) -> bool:
    """``raise …`` or ``pytest.fail(…)``."""
    if isinstance(statement, ast.Raise):
        return True
    call = statement.value if isinstance(statement, ast.Expr) else None
    return isinstance(call, ast.Call) and getattr(call.func, "attr", getattr(call.func, "id", "")) == "fail"


def _class_functions(cls: type) -> list[Callable[..., Any]]:
    functions = []
    for value in vars(cls).values():
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        elif isinstance(value, property):
            functions.extend(f for f in (value.fget, value.fset, value.fdel) if f is not None)
            continue
        if inspect.isfunction(value):
            functions.append(value)
    return functions


def _ours(target: Any) -> bool:
    """A function or class defined under tests/ (not a fixture: fixtures are not called), outside
    :data:`NOT_FOLLOWED`."""
    if not (inspect.isfunction(target) or isinstance(target, type)):
        return False
    module = getattr(target, "__module__", "") or ""
    if module in NOT_FOLLOWED:
        return False
    return module == "conftest" or module == "tests" or module.startswith("tests.")


def _unwrap(function: Any) -> Any:
    if hasattr(function, "_get_wrapped_function"):  # a pytest fixture object
        function = function._get_wrapped_function()
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", None)
    if inner is not None:
        function = inner
    try:
        return inspect.unwrap(function)
    except ValueError:
        return function
