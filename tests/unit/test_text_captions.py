"""Training captions from class names, their random choice per step, and the text denoiser loss."""
from __future__ import annotations

import pytest
import torch

from core.diffusion.schedulers import alphas_cumprod
from core.models.text_encoder import TEXT_DIM
from core.training.captions import CAPTION_TEMPLATES, caption, caption_table, class_phrase, pick_captions
from core.training.run_config import RunSpec, build_run_config
from core.training.stages import denoiser_loss


def test_class_names_become_phrases_with_the_right_article():
    assert class_phrase("night_stand") == "night stand"
    assert caption("{a} {name}", "night_stand") == "a night stand"
    assert caption("{a} 3D model of {a} {name}", "sofa") == "a 3D model of a sofa"
    assert caption("{a} {name} shape", "armchair") == "an armchair shape"
    assert caption("{name}", "Monitor") == "monitor"
    captions = {caption(t, "chair") for t in CAPTION_TEMPLATES}
    assert len(captions) == len(CAPTION_TEMPLATES) >= 5 and "a chair" in captions


def _index_embedding(texts):
    """A stand-in encoder whose rows say which caption they came from."""
    return torch.arange(len(texts), dtype=torch.float32)[:, None].expand(-1, TEXT_DIM).clone()


def test_caption_table_and_random_template_per_sample():
    classes, templates = ["chair", "sofa"], CAPTION_TEMPLATES[:4]
    seen = []
    table = caption_table(classes, templates, lambda texts: (seen.extend(texts), _index_embedding(texts))[1])
    assert table.shape == (2, 4, TEXT_DIM)
    assert seen[int(table[1, 2, 0])] == caption(templates[2], "sofa")
    labels = torch.tensor([0, 1] * 32)
    picked = pick_captions(table, labels, torch.Generator().manual_seed(3))
    index = picked[:, 0].long()
    assert torch.equal(index // 4, labels)  # each row is a caption of its own class
    assert len(set((index % 4).tolist())) == 4  # and the templates vary
    again = pick_captions(table, labels, torch.Generator().manual_seed(3))
    assert torch.equal(picked, again)


def test_text_denoiser_loss_feeds_captions_of_each_label_with_some_dropped_to_null():
    table = torch.randn(2, 3, TEXT_DIM)
    labels = torch.tensor([0, 1] * 100)
    seen = []

    def denoiser(x, t, cond):
        seen.append(cond)
        return torch.zeros_like(x)

    schedule = alphas_cumprod({"num_train_timesteps": 100, "beta_start": 1e-4, "beta_end": 0.02,
                               "beta_schedule": "linear", "prediction_type": "epsilon"})
    loss, _ = denoiser_loss(schedule, "epsilon", "text", 0, table)(denoiser, [torch.randn(200, 8, 4), labels],
                                                                   torch.Generator().manual_seed(0))
    assert torch.isfinite(loss)
    cond = seen[0]
    null = cond.abs().sum(1) == 0
    matches = (cond[:, None, :] == table[labels]).all(-1).any(-1)  # a caption of the row's own class
    assert torch.equal(matches, ~null)
    assert 5 <= int(null.sum()) <= 40  # the empty caption at the 10 % guidance dropout
    with pytest.raises(ValueError, match="caption"):
        denoiser_loss(schedule, "epsilon", "text", 0)


def test_text_run_config_records_the_caption_templates():
    spec = RunSpec(data="builtin", representation="points", cond="text")
    config = build_run_config(spec, ["chair", "night_stand"], "unit sphere")
    assert config.cond == "text" and config.denoiser["cond"] == "text"
    assert config.denoiser["text_dim"] == TEXT_DIM and config.denoiser["num_classes"] == 0
    assert config.captions["templates"] == list(CAPTION_TEMPLATES)
    assert "captions" not in build_run_config(RunSpec(data="builtin", representation="points", cond="class"),
                                              ["chair"], "unit sphere").to_dict()
