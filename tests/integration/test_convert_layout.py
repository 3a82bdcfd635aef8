"""Round trips that keep what they were given (issues 23, 24), through the CLI on real files: a converted dataset
reads back with its classes, splits and counts; one file is never a folder; every output reads back through
``datasets inspect``, ``render`` and ``eval``; ``--oracle`` halves a reference without splits; ``--normalize``."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.io import read_shape
from core.jobs.evaluate import ORACLE_HALVES
from core.shapes import GaussianSplats, Mesh

#: the parts of ``datasets inspect --json`` a converted dataset must keep
LAYOUT = ("count", "classes", "splits", "class_splits")
MODELNET_OFF = Path("modelnet_off") / "ModelNet10"
PCD_SAMPLES = Path("modelnet10_pointclouds_1024") / "pcd_samples"
#: small real meshes (700 and 2,095 vertices; the first bathtub has ModelNet's one-line OFF header)
FLAT_MESHES = {"bathtub": ("bathtub_0001.off", "bathtub_0002.off"), "bed": ("bed_0001.off", "bed_0003.off")}
SUFFIX = {"points": ".ply", "voxels": ".npy", "splats": ".ply", "mesh": ".obj"}


def inspect(capsys, path: Path) -> dict:
    """``datasets inspect PATH --json`` as a dict."""
    capsys.readouterr()
    assert main(["datasets", "inspect", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def convert(source: Path, target: str, out: Path, *options: str) -> int:
    """``convert`` with small sizes, so every test stays at seconds."""
    return main(["convert", str(source), "--to", target, "--out", str(out), "--points", "128", "--res", "16",
                 *options])


def one_error_line(capsys) -> str:
    """The one stderr line of a refused command."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def flat_folder(shared_data, tmp_path) -> Path:
    """Class folders without train/test below them, as a user's own meshes come (copies of real ModelNet files)."""
    root = tmp_path / "flat"
    for name, files in FLAT_MESHES.items():
        (root / name).mkdir(parents=True)
        for file in files:
            shutil.copy(shared_data / MODELNET_OFF / name / "train" / file, root / name / file)
    return root


@pytest.mark.parametrize("target", ["points", "voxels", "splats"])
@pytest.mark.parametrize("source", [PCD_SAMPLES, MODELNET_OFF], ids=["pcd-class-split", "off-class-train"])
def test_a_modelnet10_folder_reads_back_with_its_classes_splits_and_counts(shared_data, tmp_path, capsys, source,
                                                                          target):
    out = tmp_path / "out"
    assert convert(shared_data / source, target, out) == 0
    before, after = inspect(capsys, shared_data / source), inspect(capsys, out)
    assert {k: after[k] for k in LAYOUT} == {k: before[k] for k in LAYOUT}
    assert after["representation"] == target and after["skipped"] == []
    assert (out / "bathtub" / "train" / f"bathtub_0001{SUFFIX[target]}").is_file()


@pytest.mark.parametrize("target", ["points", "voxels", "splats", "mesh"])
def test_a_class_folder_without_splits_keeps_its_classes(flat_folder, tmp_path, capsys, target):
    out = tmp_path / "out"
    assert convert(flat_folder, target, out) == 0
    after = inspect(capsys, out)
    assert after["classes"] == {"bathtub": 2, "bed": 2} and after["splits"] == {"all": 4}
    assert {k: after[k] for k in LAYOUT} == {k: inspect(capsys, flat_folder)[k] for k in LAYOUT}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        f"{name}/{Path(file).stem}{SUFFIX[target]}" for name, files in FLAT_MESHES.items() for file in files)


def test_pointnet_hdf5_classes_convert_to_class_and_split_folders(shared_data, tmp_path, capsys):
    out = tmp_path / "bathtubs"
    source = shared_data / "modelnet10_pointclouds_1024"
    assert main(["convert", str(source), "--to", "points", "--out", str(out), "--points", "64",
                 "--classes", "bathtub"]) == 0
    after = inspect(capsys, out)
    assert after["classes"] == {"bathtub": 156} and after["splits"] == {"test": 50, "train": 106}
    assert (out / "bathtub" / "test" / "bathtub_0107.ply").is_file()  # names from test_files.txt


def test_a_file_suffix_for_many_shapes_is_one_line_exit_2(shared_data, flat_folder, tmp_path, capsys):
    grids = tmp_path / "grids"
    assert convert(flat_folder, "voxels", grids) == 0
    voxels = tmp_path / "voxels.npy"
    np.save(voxels, np.stack([np.load(p) for p in sorted(grids.rglob("*.npy"))]))
    cases = [(voxels, "mesh", tmp_path / "vox.obj", "4 shapes"),
             (flat_folder, "points", tmp_path / "clouds.ply", "4 shapes"),
             (shared_data / "pointnet_h5_ycb" / "test_model.h5", "points", tmp_path / "ycb.npy", "6 shapes")]
    for source, target, out, count in cases:
        capsys.readouterr()
        assert convert(source, target, out) == 2
        line = one_error_line(capsys)
        assert str(out) in line and count in line and "folder" in line
        assert not out.exists()


def test_one_voxel_grid_converts_to_one_mesh_file(shared_data, tmp_path):
    grid = tmp_path / "voxels.npy"
    assert convert(shared_data / MODELNET_OFF / "bed" / "train" / "bed_0001.off", "voxels", grid) == 0
    out = tmp_path / "vox.obj"
    assert main(["convert", str(grid), "--to", "mesh", "--out", str(out)]) == 0
    assert out.is_file()
    mesh = read_shape(out)
    assert isinstance(mesh, Mesh) and len(mesh.faces) > 100 and np.abs(mesh.vertices).max() <= 1.0


def _coordinates(shape) -> np.ndarray:
    """The points a normalisation is fitted to: cloud points, used mesh vertices, splat centres."""
    if isinstance(shape, Mesh):
        return shape.vertices[np.unique(shape.faces)]
    return shape.positions if isinstance(shape, GaussianSplats) else shape.points


@pytest.mark.parametrize("target, suffix", [("points", ".ply"), ("mesh", ".obj"), ("splats", ".ply")])
def test_normalize_fits_the_output_into_the_unit_sphere_or_cube(shared_data, tmp_path, target, suffix):
    source = shared_data / MODELNET_OFF / "bathtub" / "train" / "bathtub_0002.off"
    coordinates = {}
    for mode in ("none", "unit_sphere", "unit_cube"):
        out = tmp_path / f"{mode}{suffix}"
        assert convert(source, target, out, "--normalize", mode) == 0
        coordinates[mode] = _coordinates(read_shape(out)).astype(np.float64)
    low, high = coordinates["none"].min(0), coordinates["none"].max(0)
    assert (high - low).max() > 10  # ModelNet's raw units, kept without --normalize
    for mode, points in coordinates.items():
        if mode != "none":
            np.testing.assert_allclose((points.min(0) + points.max(0)) / 2, 0, atol=1e-5)
    assert np.linalg.norm(coordinates["unit_sphere"], axis=1).max() == pytest.approx(1, abs=1e-5)
    assert np.ptp(coordinates["unit_cube"], axis=0).max() == pytest.approx(1, abs=1e-5)


def test_normalize_is_said_in_help_and_refused_for_voxels(shared_data, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["convert", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--normalize {none,unit_sphere,unit_cube}" in help_text and "(default none)" in help_text
    source = shared_data / MODELNET_OFF / "bed" / "train" / "bed_0001.off"
    assert convert(source, "voxels", tmp_path / "v.npy", "--normalize", "unit_sphere") == 2
    assert "--normalize" in one_error_line(capsys) and not (tmp_path / "v.npy").exists()


def test_splat_samples_read_back_through_inspect_render_and_eval(shared_data, tmp_path, capsys):
    samples = tmp_path / "samples"
    assert main(["sample", "builtin:splats", "--n", "2", "--steps", "2", "--class", "chair", "--format", "ply",
                 "--out", str(samples)]) == 0
    assert np.load(samples / "samples.npy").shape[:2] == (2, 15)  # the raw grid layout the README documents
    for path in (samples / "samples.npy", samples):
        summary = inspect(capsys, path)
        assert summary["representation"] == "splats" and summary["count"] == 2 and "dropped" not in summary
        assert summary["gaussians_per_shape"]
    picture = tmp_path / "samples.png"
    assert main(["render", str(samples), "--grid", "--size", "64", "--out", str(picture)]) == 0
    assert picture.is_file()
    report = tmp_path / "eval.json"
    assert main(["eval", str(samples / "samples.npy"), "--ref", str(shared_data / "modelnet10_pointclouds_1024"),
                 "--class", "chair", "--n-ref", "8", "--points", "256", "--metrics", "cd",
                 "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["representation"] == "splats" and result["n_samples"] == 2 and "1-NNA-CD" in result["metrics"]


def test_oracle_on_a_reference_without_splits_uses_seeded_halves(shared_data, tmp_path, capsys):
    reference = tmp_path / "clouds"
    for file in (shared_data / PCD_SAMPLES).rglob("*.pcd"):  # 20 real clouds, class folders without splits
        (reference / file.parent.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(file, reference / file.parent.parent.name / file.name)
    reports = []
    for seed in ("0", "0", "1"):
        report = tmp_path / f"oracle-{len(reports)}.json"
        capsys.readouterr()
        assert main(["eval", "--oracle", "--ref", str(reference), "--metrics", "cd", "--seed", seed,
                     "--json", str(report)]) == 0
        assert "no train/test split" in capsys.readouterr().err
        reports.append(json.loads(report.read_text()))
    first, again, other = reports
    assert first["split"] == ORACLE_HALVES and first["n_samples"] == first["n_ref"] == 10
    assert first["metrics"]["MMD-CD"] > 0  # the oracle's half is not the reference: no shape matches itself
    assert again["metrics"] == first["metrics"] and other["metrics"] != first["metrics"]
