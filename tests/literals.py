"""Where a contract's literal is spelled: the guard that keeps each contract in its one home module."""

import ast
import operator
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_ARITHMETIC = {ast.Mult: operator.mul, ast.Add: operator.add, ast.Pow: operator.pow}


def spelled_outside(home: str, folders: Iterable[str], pattern: str) -> list[str]:
    """`file:line` of every string constant (f-string parts included) matching `pattern` in the folders' Python files,
    docstrings and the home module left out."""
    found = []
    for rel, tree in _modules(home, folders):
        docstrings = {id(node.body[0].value) for node in ast.walk(tree) if _has_docstring(node)}
        found += [
            f"{rel}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and re.search(pattern, node.value)
        ]
    return found


def numbers_outside(home: str, folders: Iterable[str], values: Iterable[int]) -> list[str]:
    """`file:line` of every number, or arithmetic of numbers only (`14 * 24 * 3600`), that equals one of `values`."""
    wanted = set(values)
    found = []
    for rel, tree in _modules(home, folders):
        found += [f"{rel}:{node.lineno}" for node in ast.walk(tree) if _number(node) in wanted]
    return sorted(set(found))


def _modules(home: str, folders: Iterable[str]) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel != home:
            yield rel, ast.parse(path.read_text(encoding="utf-8"))


def _number(node: ast.AST) -> object:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _number(node.left), _number(node.right)
        if isinstance(left, int) and isinstance(right, int):
            return _ARITHMETIC[type(node.op)](left, right)
    return None


def _has_docstring(node: ast.AST) -> bool:
    body = getattr(node, "body", None)
    return (
        isinstance(body, list)
        and bool(body)
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
