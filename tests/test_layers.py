"""Layers only look down (docs/architecture.md): core ← theory ← model ← probe ← lab ←
report ← cli/web. Every import in src/initlab, at module level or inside a function, is checked:
a lower layer never imports a higher one, not even lazily (issue 10, item 2)."""

import ast
from pathlib import Path

import initlab

SRC = Path(initlab.__file__).parent
# rank of each package; modules at the top of the package (initlab/__init__.py, schemes.py,
# policies.py) are the public façade and may import any layer; errors.py and views.py are below
# everything.
RANK = {"errors": 0, "views": 0, "core": 1, "theory": 2, "model": 3, "probe": 4, "scale": 4,
        "lab": 5, "report": 6, "cli": 7, "web": 7}


def _layer(parts: list[str]) -> str | None:
    return parts[0] if parts and parts[0] in RANK else None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            out += [(node.lineno, n) for n in names if n.startswith("initlab.")]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("initlab.")]
    return out


def test_no_module_imports_a_higher_layer():
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        own = _layer(list(path.relative_to(SRC).parts))
        if own is None:
            continue
        for line, name in _imports(path):
            target = _layer(name.split(".")[1:])
            if target is not None and RANK[target] > RANK[own]:
                bad.append(f"{path.relative_to(SRC)}:{line} ({own}) imports {name} ({target})")
    assert not bad, "upward imports:\n" + "\n".join(bad)
