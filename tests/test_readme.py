"""The README's Python examples run as written and return what their comments say.

Blocks run in order, sharing one namespace. A line of the form ``expr  # → VALUE[: words]``
claims a result: the expression is evaluated where it stands and compared with VALUE, to the
precision VALUE is written in (half a unit of its last digit, so ``1.414214`` claims
|x − 1.414214| ≤ 5e-7). VALUE may be a number, ``√number`` (the result squared is compared), a
tuple of numbers/strings, a quoted string, or ``Name(k=v, ...)`` (each attribute compared).
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_CLAIM = re.compile(r"#\s*→\s*(.+?)\s*$")


def _tolerance(text: str) -> float:
    m = re.fullmatch(r"[-+]?\d*\.?(\d*)(?:e([-+]?\d+))?", text.strip().replace("−", "-"))
    if not m:
        return 0.0
    decimals = len(m.group(1))
    exp = int(m.group(2) or 0)
    return 0.5 * 10.0 ** (exp - decimals)


def _split_value(claim: str) -> str:
    """The value part of a claim: up to ': ' or two spaces (the rest is prose)."""
    depth, out = 0, []
    for i, ch in enumerate(claim):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and (claim.startswith(": ", i) or claim.startswith("  ", i)):
            break
        out.append(ch)
    return "".join(out).strip()


def _compare(value: Any, text: str, where: str) -> None:
    text = text.replace("−", "-")
    if text.startswith("√"):
        _compare(float(value) ** 2, text[1:], where)
        return
    m = re.fullmatch(r"(\w+)\((.*)\)", text)
    if m and "=" in m.group(2):
        assert type(value).__name__ == m.group(1), f"{where}: {value!r} is not a {m.group(1)}"
        for pair in m.group(2).split(","):
            k, _, v = pair.strip().partition("=")
            _compare(getattr(value, k), v.strip(), f"{where} .{k}")
        return
    if text.startswith("(") or "," in text:
        parts = [p.strip() for p in text.strip("()").split(",") if p.strip()]
        got = tuple(value)
        assert len(got) >= len(parts), f"{where}: {value!r} has fewer items than {text}"
        for p, g in zip(parts, got, strict=False):
            _compare(g, p, where)
        return
    if text[:1] in "'\"":
        assert value == ast.literal_eval(text), f"{where}: got {value!r}, README says {text}"
        return
    expected = float(text)
    got = float(value)
    tol = _tolerance(text) + 1e-9 * abs(expected)
    assert math.isclose(got, expected, abs_tol=tol), f"{where}: got {got!r}, README says {text}"


def _run_block(block: str, index: int, namespace: dict) -> int:
    """Run one block statement by statement; check the claimed results; return their count."""
    tree = ast.parse(block)
    lines = block.splitlines()
    checked = 0
    for stmt in tree.body:
        src = ast.get_source_segment(block, stmt)
        code = compile(ast.Module([stmt], []), f"README.md python block {index}", "exec")
        last = lines[stmt.end_lineno - 1]
        claim = _CLAIM.search(last)
        if isinstance(stmt, ast.Expr) and claim:
            value = eval(compile(ast.Expression(stmt.value), "README", "eval"), namespace)
            _compare(value, _split_value(claim.group(1)), f"block {index}: {src}")
            checked += 1
        else:
            exec(code, namespace)
    return checked


def test_readme_python_blocks_run_and_print_what_they_say(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # figures and reports land in a temp dir
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    checked = 0
    for i, block in enumerate(blocks):
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                checked += _run_block(block, i, namespace)
            except AssertionError:
                raise
            except Exception as e:  # pragma: no cover - the failure message is the point
                raise AssertionError(f"README python block {i} failed: {e!r}\n{block}") from e
    assert checked >= 8, f"only {checked} README results are checked; mark claims with '# →'"


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.4142135, "1.414214"), ((9, 9), "(9, 9)"), ("chaotic", "'chaotic'"), (1.3266, "√1.76")],
)
def test_claim_checker_accepts(value, text):
    _compare(value, text, "t")


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.4143, "1.414214"), ((9, 36), "(9, 9)"), ("ordered", "'chaotic'"), (1.5, "√1.76")],
)
def test_claim_checker_rejects(value, text):
    with pytest.raises(AssertionError):
        _compare(value, text, "t")
