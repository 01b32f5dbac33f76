"""A seed checkpoint of a meta Hugging Face model equals eager ``initlab.init`` (issue 9).

The rows no policy rule covers (Mamba's ``A_log``/``D``, ViT's ``cls_token``, Whisper's frozen
sinusoidal positions, BERT's output bias) get the model's own ``_init_weights`` in both paths,
under the same seeded RNG (``initlab.model.own_init``).
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("safetensors")

from safetensors.torch import load_file
from tests.real.models import build

import initlab
from initlab.model.own_init import own_init_values
from initlab.scale import write_seed_checkpoint


@pytest.mark.parametrize("name", ["mamba", "vit", "whisper", "bert"])
def test_seed_checkpoint_of_meta_hf_model_equals_eager_init(name, tmp_path) -> None:
    eager = build(name)
    initlab.init(eager.model, eager.example, seed=3)
    with torch.device("meta"):
        lazy = build(name)
    plan = initlab.plan(lazy.model, eager.example)
    own = [r.name for r in plan.rows if r.call[0] == "reset_parameters"]
    assert own  # the model has rows only its own init covers
    ck = write_seed_checkpoint(lazy.model, plan, tmp_path / "c", seed=3)
    got: dict[str, torch.Tensor] = {}
    for f in ck.files:
        got.update(load_file(tmp_path / "c" / f))
    ref = eager.model.state_dict()
    assert [k for k in got if not torch.equal(got[k], ref[k])] == []
    assert set(own) <= set(got)
    assert all(t.is_meta for t in lazy.model.parameters())  # the meta model is not touched


def test_own_init_values_materialize_only_the_module_under_the_root() -> None:
    with torch.device("meta"):
        lazy = build("vit")
    v = own_init_values(lazy.model, "vit.embeddings", seed=0)
    assert v["vit.embeddings.cls_token"].device.type == "cpu"
    assert "vit.embeddings.patch_embeddings.projection.weight" not in v  # a child's own
