"""The example input the CLI builds for a model, and the device check."""

import pytest
import torch
from torch import nn

from initlab.cli.common import check_device, first_embedding, make_input
from initlab.errors import InitError


class TokenModelWithLooseParameter(nn.Module):
    """A position table as a top-level nn.Parameter, registered before the embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(16, 8))
        self.tok = nn.Embedding(100, 8)
        self.head = nn.Linear(8, 100)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.tok(ids) + self.pos[: ids.shape[1]])


def test_auto_dtype_sees_the_embedding_behind_a_top_level_parameter():
    m = TokenModelWithLooseParameter()
    assert first_embedding(m) is m.tok
    x = make_input(m, (4, 16))
    assert x.dtype == torch.long
    assert m(x).shape == (4, 16, 100)


def test_long_ids_cover_the_whole_vocabulary():
    # 4096 uniform draws from 100 ids: P(max < 50) = 0.5^4096, so the range is the vocabulary.
    x = make_input(nn.Sequential(nn.Embedding(100, 4)), (4096,), "long")
    assert int(x.max()) >= 50 and int(x.min()) >= 0 and int(x.max()) < 100


def test_long_without_embedding_is_refused():
    with pytest.raises(InitError, match="--dtype long"):
        make_input(nn.Linear(4, 4), (2, 4), "long")


def test_float_model_gets_floats():
    assert make_input(nn.Linear(4, 4), (2, 4)).dtype == torch.float32


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", ""])
def test_bad_device_names(bad):
    with pytest.raises(InitError, match="--device"):
        check_device(bad)


def test_cuda_absent_is_a_clear_error():
    if torch.cuda.is_available():
        assert check_device("cuda").type == "cuda"
    else:
        with pytest.raises(InitError, match="no CUDA device"):
            check_device("cuda")
    assert check_device("cpu").type == "cpu"
