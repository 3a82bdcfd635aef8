"""The conversion cache: a second load converts nothing; edits and new parameters miss; entries are .npy."""
from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

import core.data.conversions as conversions
from core.data import open_dataset
from core.data.builtin import make_shape
from core.data.cache import CACHE_ENV, cache_dir, cache_key, cached_arrays
from core.io import write_mesh


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache folder for this test alone."""
    root = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(root))
    return root


@pytest.fixture
def count_conversions(monkeypatch):
    """Count calls of core.data.conversions.convert (surface sampling, splatting …)."""
    calls = []
    original = conversions.convert

    def counting(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(conversions, "convert", counting)
    return calls


def _mesh_folder(root):
    for i, name in enumerate(["mug", "stool", "lamp"]):
        write_mesh(make_shape(name, i), root / "data" / name / "train" / f"{name}.off")
    return root / "data"


def test_second_load_converts_nothing(tmp_path, cache, count_conversions):
    folder = _mesh_folder(tmp_path)
    first = open_dataset(folder).points(n_points=256)
    assert count_conversions == ["points"] * 3
    again = open_dataset(folder).points(n_points=256)
    assert count_conversions == ["points"] * 3
    np.testing.assert_array_equal(first, again)
    open_dataset(folder).points(n_points=128)  # other parameters: a new entry
    assert len(count_conversions) == 6


def test_get_is_cached_too(tmp_path, cache, count_conversions):
    folder = _mesh_folder(tmp_path)
    splats = open_dataset(folder).get(1, "splats", n=64)
    again = open_dataset(folder).get(1, "splats", n=64)
    assert count_conversions == ["splats"]
    np.testing.assert_array_equal(splats.positions, again.positions)
    np.testing.assert_array_equal(splats.rotations, again.rotations)


def test_editing_a_source_file_invalidates_its_entry(tmp_path, cache, count_conversions):
    folder = _mesh_folder(tmp_path)
    open_dataset(folder).points(n_points=64)
    edited = folder / "mug" / "train" / "mug.off"
    write_mesh(make_shape("mug", 9), edited)
    os.utime(edited, ns=(1, 1))  # a different mtime even on coarse file systems
    open_dataset(folder).points(n_points=64)
    assert len(count_conversions) == 4  # only the edited file was converted again


def test_array_batches_are_cached(tmp_path, cache, monkeypatch):
    import core.data.datasets as datasets

    path = tmp_path / "clouds_test.h5"
    with h5py.File(path, "w") as f:
        f["data"] = np.random.default_rng(0).normal(size=(6, 40, 3)).astype(np.float32)
        f["label"] = np.zeros(6, dtype=np.int64)
    calls = []
    original = datasets.points_from_stack
    monkeypatch.setattr(datasets, "points_from_stack", lambda *a: calls.append(1) or original(*a))
    first = open_dataset(path).points(n_points=50)
    second = open_dataset(path).points(n_points=50)
    assert calls == [1]  # one vectorised conversion for the whole file, then the cache
    np.testing.assert_array_equal(first, second)
    subset = open_dataset(path).subset(split="test").points(n_points=50)
    np.testing.assert_array_equal(subset, first)


def test_entries_are_plain_npy_files_under_the_configured_root(cache):
    key = cache_key("some source|1|2", "points", {"n_points": 8})
    stored = cached_arrays(key, lambda: {"points": np.arange(6.0).reshape(2, 3), "mask": np.ones(2, bool)})
    assert cache_dir() == cache
    files = sorted(p.name for p in cache.rglob("*") if p.is_file())
    assert files == ["mask.npy", "points.npy"]
    for path in cache.rglob("*.npy"):
        np.load(path, allow_pickle=False)
    loaded = cached_arrays(key, lambda: pytest.fail("recomputed a stored entry"))
    assert loaded.keys() == stored.keys() and loaded["mask"].dtype == bool


def test_unreadable_entry_is_recomputed(cache):
    key = cache_key("src", "op", {})
    cached_arrays(key, lambda: {"a": np.zeros(3)})
    next(cache.rglob("a.npy")).write_bytes(b"not an npy file")
    assert cached_arrays(key, lambda: {"a": np.ones(3)})["a"].tolist() == [1.0, 1.0, 1.0]
    assert cached_arrays(key, lambda: pytest.fail("not rewritten"))["a"].tolist() == [1.0, 1.0, 1.0]


def test_keys_depend_on_source_operation_parameters_and_version(monkeypatch):
    import core.data.cache as cache_module

    base = cache_key("a", "points", {"n": 1})
    assert len({base, cache_key("b", "points", {"n": 1}), cache_key("a", "voxels", {"n": 1}),
                cache_key("a", "points", {"n": 2})}) == 4
    monkeypatch.setattr(cache_module, "CACHE_FORMAT_VERSION", cache_module.CACHE_FORMAT_VERSION + 1)
    assert cache_key("a", "points", {"n": 1}) != base
