"""Splats end to end on real data: the two 3DGS scenes train as a dataset, samples are 3DGS PLY files
that the project's reader and Open3D read, one seed gives the same bytes, previews carry splats."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.data import open_dataset, splat_grid
from core.errors import InputError
from core.io import read_splats
from core.jobs import Log, Preview
from core.jobs.sample import SampleJob
from core.jobs.train import TrainJob
from core.shapes import GaussianSplats
from core.training import RunSpec

pytestmark = pytest.mark.slow
RESOLUTION = 16
STANDARD_LAYOUT = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
                   "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]


@pytest.fixture(scope="module")
def splat_run(shared_data, tmp_path_factory) -> tuple[Path, list]:
    run, events = tmp_path_factory.mktemp("splats") / "run", []
    spec = RunSpec(data=str(shared_data / "gaussian_splats"), representation="splats", preset="tiny",
                   ae_steps=3, ldm_steps=3, resolution=RESOLUTION, batch_size=2)
    assert TrainJob(run, spec).run(events.append) is not None
    return run, events


def test_two_real_scenes_train_validating_on_themselves(splat_run):
    run, events = splat_run
    assert any(isinstance(e, Log) and "validating on the training shapes" in e.message for e in events)
    config = json.loads((run / "config.json").read_text())
    assert config["autoencoder"]["in_channels"] == splat_grid.CHANNELS
    assert config["data"]["resolution"] == RESOLUTION


def test_samples_are_standard_3dgs_ply_identical_per_seed(splat_run, tmp_path):
    import open3d as o3d

    run, _ = splat_run
    results = [SampleJob(run, 2, tmp_path / name, steps=3, seed=5, preview_every=1).run(events.append)
               for name, events in (("a", []), ("b", []))]
    files = sorted((tmp_path / "a").glob("sample_*.ply"))
    assert len(files) == 2
    for path in files:
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()
        ours = read_splats(path)
        assert [name for name, _ in ours.layout] == STANDARD_LAYOUT and ours.sh_degree == 0
        assert np.abs(ours.positions).max() <= 1.0  # the grid's frame
        theirs = o3d.t.io.read_point_cloud(str(path))
        assert np.allclose(theirs.point.positions.numpy(), ours.positions)
        assert np.allclose(theirs.point.scale.numpy(), ours.scales, rtol=1e-5)
    array = np.load(tmp_path / "a" / "samples.npy")
    assert array.shape == (2, splat_grid.CHANNELS, RESOLUTION, RESOLUTION, RESOLUTION)
    assert all(isinstance(s, GaussianSplats) for s in results[0].shapes)


def test_previews_carry_splats_and_npy_writes_only_the_grids(splat_run, tmp_path):
    run, _ = splat_run
    events = []
    SampleJob(run, 1, tmp_path, steps=2, seed=1, fmt="npy", preview_every=1).run(events.append)
    previews = [e for e in events if isinstance(e, Preview)]
    assert len(previews) == 2 and all(isinstance(s, GaussianSplats) for p in previews for s in p.shapes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.json", "samples.npy"]


def test_an_unknown_format_is_refused_before_sampling(splat_run, tmp_path):
    run, _ = splat_run
    with pytest.raises(InputError, match="unknown format 'stl'"):
        SampleJob(run, 1, tmp_path / "s", steps=1, fmt="stl").execute(lambda e: None, None)
    assert not (tmp_path / "s").exists()


def test_meshes_load_as_splat_grids(shared_data):
    bathtubs = open_dataset(shared_data / "modelnet_off" / "ModelNet10").subset(classes="bathtub")
    packed = bathtubs.splat_grids(RESOLUTION, n=1024)
    assert packed.shape[0] == len(bathtubs) == 5 and packed.shape[2] == splat_grid.CHANNELS
    grids = splat_grid.unpack(packed, RESOLUTION)
    assert all(grid[0].sum() > 50 for grid in grids)  # each tub covers many cells
    assert np.array_equal(bathtubs.splat_grids(RESOLUTION, n=1024), packed)  # the cached copy
