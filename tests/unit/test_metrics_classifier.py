"""The PointNet classifier used by ``eval --classifier``: order invariance, save/load, bad folders."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.errors import InputError
from core.models.classifier import (MANIFEST, WEIGHTS, ClassifierConfig, PointNetClassifier, load_classifier,
                                    save_classifier)


def _model() -> PointNetClassifier:
    torch.manual_seed(0)
    return PointNetClassifier(ClassifierConfig(n_classes=3, n_points=32)).eval()


def test_logits_do_not_depend_on_point_order():
    model = _model()
    x = torch.randn(2, 32, 3)
    assert torch.allclose(model(x), model(x[:, torch.randperm(32)]), atol=1e-5)


def test_save_load_round_trip_predicts_the_same(tmp_path):
    model = _model()
    save_classifier(model, ["a", "b", "c"], tmp_path, {"test_accuracy": 0.5})
    loaded, classes = load_classifier(tmp_path)
    clouds = np.random.default_rng(0).normal(size=(5, 100, 3)).astype(np.float32) * 7 + 3  # any frame
    assert classes == ["a", "b", "c"]
    assert np.array_equal(loaded.predict(clouds), model.predict(clouds))
    assert json.loads((tmp_path / MANIFEST).read_text())["test_accuracy"] == 0.5


def test_foreign_or_mismatched_folders_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="not a classifier manifest"):
        load_classifier(tmp_path)
    save_classifier(_model(), ["a", "b", "c"], tmp_path, {})
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["config"]["point_widths"] = [8, 8]
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="do not match"):
        load_classifier(tmp_path)
    (tmp_path / WEIGHTS).write_bytes(b"not safetensors")
    with pytest.raises(InputError):
        load_classifier(tmp_path)
