"""The house rules a newcomer relies on: small modules, and no reaching into another
module's private names (what a module keeps private, it may change without notice)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.layout import architecture

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400
# Documented public API of the standard library that happens to start with an underscore.
STDLIB_PUBLIC = {"_exit", "_replace", "_asdict", "_fields", "_make", "_field_defaults"}


def python_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def private_names_defined(tree: ast.Module) -> set[str]:
    """Every `_name` this module defines itself: functions, classes, globals, attributes."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {name for name in names if name.startswith("_")}


def foreign_private_uses(source: str, name: str) -> list[str]:
    tree = ast.parse(source, filename=name)
    own = private_names_defined(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [
                f"{name}:{node.lineno}: from {node.module} import {alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and node.attr not in own
            and node.attr not in STDLIB_PUBLIC
        ):
            found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize(
    "path", python_files("src", "bench"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it by noun"


def test_no_module_uses_another_modules_private_names() -> None:
    found = [
        use
        for path in python_files("src", "bench", "tests", "migrations")
        for use in foreign_private_uses(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == [], "private names used outside their module:\n" + "\n".join(found)


def test_the_check_finds_private_names_taken_from_elsewhere() -> None:
    source = (
        "from elsewhere import _hidden\n"
        "class Mine:\n"
        "    def __init__(self):\n"
        "        self._own = 1\n"
        "    def same(self, other):\n"
        "        return other._own + thing._secret\n"
    )
    assert foreign_private_uses(source, "probe.py") == [
        "probe.py:1: from elsewhere import _hidden",
        "probe.py:6: thing._secret",
    ]


def test_the_architecture_page_lists_every_module_as_its_docstring_says() -> None:
    """docs/architecture.md is where a newcomer finds a module; it is made from the
    modules' docstrings, so a new or renamed module shows there once it is made again."""
    page = architecture.PAGE.read_text(encoding="utf-8")
    assert page == architecture.render(), "run: .venv/bin/python -m tests.layout.architecture"
