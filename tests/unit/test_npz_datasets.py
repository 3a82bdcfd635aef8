"""``.npz`` datasets (issue 23): shapes found by convention or ``--key``, ``labels``/``label`` become classes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main
from core.data import open_dataset
from core.errors import InputError

RNG = np.random.default_rng(0)


def _clouds(count: int) -> np.ndarray:
    return RNG.normal(size=(count, 64, 3)).astype(np.float32)


def _inspect(capsys, *args: str) -> tuple[int, dict | str]:
    capsys.readouterr()
    code = main(["datasets", "inspect", *map(str, args), "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if code == 0 else captured.err


def test_integer_labels_become_classes_in_index_order(tmp_path):
    labels = np.array([2, 0, 10, 2, 0, 2])
    np.savez(tmp_path / "clouds.npz", points=_clouds(6), labels=labels)
    dataset = open_dataset(tmp_path / "clouds.npz")
    assert dataset.classes == ["class_0", "class_2", "class_10"]
    assert [r.class_name for r in dataset.records] == [f"class_{k}" for k in labels]
    np.testing.assert_array_equal(dataset.labels(), [1, 0, 2, 1, 0, 1])
    assert len(dataset.subset(classes=["class_2"])) == 3


def test_named_labels_of_any_layout_and_an_unknown_shapes_name(tmp_path, capsys):
    names = np.array(["chair", "sofa", "chair", "lamp"]).reshape(4, 1)
    np.savez(tmp_path / "scans.npz", clouds=_clouds(4), label=names)  # one array besides the labels: the shapes
    code, summary = _inspect(capsys, tmp_path / "scans.npz")
    assert code == 0, summary
    assert summary["classes"] == {"chair": 2, "lamp": 1, "sofa": 1} and summary["count"] == 4


def test_train_and_test_archives_with_labels_are_a_labelled_split_dataset(tmp_path):
    for split, count in (("train", 6), ("test", 3)):
        np.savez(tmp_path / f"{split}.npz", points=_clouds(count), labels=np.arange(count) % 2)
    dataset = open_dataset(tmp_path)
    assert dataset.classes == ["class_0", "class_1"]
    assert len(dataset.subset(split="test")) == 3 and len(dataset.subset(split="train", classes=["class_1"])) == 3


def test_key_chooses_the_shapes_among_several_arrays(tmp_path, capsys):
    np.savez(tmp_path / "two.npz", coarse=_clouds(3), fine=RNG.normal(size=(5, 128, 3)), labels=np.zeros(3))
    code, err = _inspect(capsys, tmp_path / "two.npz")
    assert code == 2 and "name the shapes array with --key" in err and len(err.strip().splitlines()) == 1
    code, summary = _inspect(capsys, tmp_path / "two.npz", "--key", "coarse")
    assert code == 0 and summary["count"] == 3 and summary["classes"] == {"class_0": 3}
    code, err = _inspect(capsys, tmp_path / "two.npz", "--key", "nope")
    assert code == 2 and "no array 'nope'" in err and "coarse, fine, labels" in err


def test_labels_that_do_not_fit_are_one_line(tmp_path):
    np.savez(tmp_path / "short.npz", points=_clouds(4), labels=np.arange(3))
    with pytest.raises(InputError, match=r"'labels' has shape \(3,\); it needs one label per shape \(4,\)"):
        open_dataset(tmp_path / "short.npz")
    np.savez(tmp_path / "fractions.npz", points=_clouds(2), labels=np.array([0.5, 1.0]))
    with pytest.raises(InputError, match="labels are class indices"):
        open_dataset(tmp_path / "fractions.npz")


def test_key_on_a_file_that_is_not_an_npz_is_refused(tmp_path):
    np.save(tmp_path / "clouds.npy", _clouds(2))
    with pytest.raises(InputError, match="--key points names an array of an .npz file"):
        open_dataset(tmp_path / "clouds.npy", key="points")
