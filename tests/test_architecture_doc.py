"""docs/architecture.md's examples ("Adding a scheme", "Adding an activation") run as written:
each is a one-file change, and the doc shows it working."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def test_architecture_python_blocks_run():
    from initlab.core import activations
    from initlab.model import specs

    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 2
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"docs/architecture.md python block {i}", "exec"), {})
    finally:  # the examples register things: leave the registries as they were
        specs.unregister_scheme("he_avg")
        activations._USER.pop("scaled_tanh", None)
