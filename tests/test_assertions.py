"""The suite's own hygiene: a test whose every assertion sits in a loop or a branch can pass without checking
anything (an empty loop, an untaken branch). This lists such tests; each must be fixed, or say why on the line
above it with a comment that starts "# assertions in a loop:"."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REASON = "# assertions in a loop:"


def checks_unconditionally(statements: list[ast.stmt]) -> bool:
    """Whether these statements, run top to bottom, surely reach an assert, a pytest.raises / warns block, or a
    Playwright expect(...), without entering a loop or a branch."""
    for statement in statements:
        if isinstance(statement, ast.Assert):
            return True
        if isinstance(statement, ast.With | ast.AsyncWith):
            for item in statement.items:
                context = item.context_expr
                if isinstance(context, ast.Call) and getattr(context.func, "attr", None) in ("raises", "warns"):
                    return True
            if checks_unconditionally(statement.body):
                return True
        if isinstance(statement, ast.Try) and checks_unconditionally(statement.body + statement.finalbody):
            return True
        if isinstance(statement, ast.Expr) and any(
            isinstance(node, ast.Call) and getattr(node.func, "id", None) == "expect"
            for node in ast.walk(statement.value)
        ):
            return True
    return False


def unchecked(source: str) -> list[str]:
    """The test functions in `source` that check nothing unconditionally and give no reason."""
    lines = source.splitlines()
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            given = first >= 2 and lines[first - 2].strip().startswith(REASON)
            if not given and not checks_unconditionally(node.body):
                found.append(node.name)
    return found


def test_the_scan_finds_a_test_that_can_pass_without_checking():
    source = """
def test_loop(xs):
    for x in xs:
        assert x

def test_branch(x):
    if x:
        assert x

def test_plain(x):
    assert x

def test_raises():
    with pytest.raises(ValueError):
        int("x")

# assertions in a loop: over a literal, non-empty tuple
def test_reasoned():
    for x in (1, 2):
        assert x
"""
    assert unchecked(source) == ["test_loop", "test_branch"]


def test_every_test_checks_something_unconditionally_or_says_why():
    found = {path.name: unchecked(path.read_text(encoding="utf-8")) for path in sorted(TESTS.glob("test_*.py"))}
    assert {name: tests for name, tests in found.items() if tests} == {}
