"""The built-in procedural dataset: deterministic by seed, varied, every class in both splits."""
from __future__ import annotations

import numpy as np
import pytest

from core.data import open_dataset
from core.data.builtin import CLASSES, make_shape
from core.data.primitives import box, cylinder, merge, rod, torus
from core.errors import InputError


@pytest.mark.parametrize("name", CLASSES)
def test_same_seed_same_shape_other_seed_other_shape(name):
    first, again = make_shape(name, 3, seed=5), make_shape(name, 3, seed=5)
    np.testing.assert_array_equal(first.vertices, again.vertices)
    np.testing.assert_array_equal(first.faces, again.faces)
    other = make_shape(name, 3, seed=6)
    assert other.vertices.shape != first.vertices.shape or not np.allclose(other.vertices, first.vertices)


@pytest.mark.parametrize("name", CLASSES)
def test_shapes_of_a_class_vary_and_stand_on_the_floor(name):
    meshes = [make_shape(name, i) for i in range(6)]
    sizes = np.array([np.subtract(*m.bounds[::-1]) for m in meshes])
    assert np.ptp(sizes, axis=0).max() > 0.01  # parametric variation, not one shape six times
    for mesh in meshes:
        low, high = mesh.bounds
        assert abs(low[1]) < 0.03 and high[1] > 0.05  # y-up, resting on y = 0
        assert mesh.triangle_areas().sum() > 0


def test_classes_are_told_apart_by_size():
    height = {name: np.mean([make_shape(name, i).bounds[1][1] for i in range(8)]) for name in CLASSES}
    assert height["mug"] < 0.2 < height["stool"]
    assert height["chair"] > height["table"] > height["bench"]  # a backrest rises above a table top


def test_builtin_dataset_has_every_class_in_both_splits():
    dataset = open_dataset("builtin")
    assert dataset.classes == CLASSES and len(CLASSES) >= 6
    assert {"chair", "table", "stool", "lamp", "mug", "shelf"} <= set(CLASSES)
    for split, per_class in (("train", 40), ("test", 10)):
        part = dataset.subset(split=split)
        counts = np.bincount(part.labels(), minlength=len(CLASSES))
        assert counts.tolist() == [per_class] * len(CLASSES)
    np.testing.assert_array_equal(dataset.load(7).vertices, make_shape("chair", 7).vertices)


def test_builtin_seed_is_part_of_the_name():
    seeded = open_dataset("builtin:3")
    np.testing.assert_array_equal(seeded.load(0).vertices, make_shape("chair", 0, seed=3).vertices)
    with pytest.raises(InputError, match="builtin:x"):
        open_dataset("builtin:x")


def test_primitives_are_closed_where_they_should_be():
    cube = box((0, 0, 0), (2, 2, 2))
    assert cube.triangle_areas().sum() == pytest.approx(24.0)
    can = cylinder((0, 0, 0), 1.0, 2.0, segments=256)
    assert can.triangle_areas().sum() == pytest.approx(2 * np.pi + 4 * np.pi, rel=1e-3)
    bar = rod((0, 0, 0), (3, 4, 0), 0.1)
    low, high = bar.bounds
    assert np.linalg.norm(high - low) == pytest.approx(np.linalg.norm([3, 4, 0]), abs=0.25)
    ring = torus((0, 0, 0), 1.0, 0.1, segments=128, tube_segments=32)
    assert ring.triangle_areas().sum() == pytest.approx(4 * np.pi ** 2 * 0.1, rel=1e-2)
    both = merge([cube, can])
    assert len(both.faces) == len(cube.faces) + len(can.faces) and both.faces.max() == len(both.vertices) - 1
