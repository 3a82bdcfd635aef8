"""A voxel model's occupancy logit: the decoder logit above which a cell is occupied (``builtin:voxels`` reads its
cells at -0.25, recorded in its config.json), overridable in ``sample`` and set by ``export-builtin``."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from core.cli import main
from core.io import read_array
from core.training.pretrained import pretrained_dir

REQUEST = ["sample", "builtin:voxels", "--class", "table", "--n", "3", "--steps", "4", "--seed", "2", "--format", "npy"]


def _sample(tmp_path: Path, name: str, *extra: str) -> tuple[np.ndarray, dict]:
    out = tmp_path / name
    assert main([*REQUEST, *extra, "--out", str(out)]) == 0
    return read_array(out / "samples.npy").astype(bool), json.loads((out / "samples.json").read_text())


def test_the_shipped_voxel_model_reads_its_cells_at_its_own_logit_and_a_lower_one_only_adds_cells(tmp_path):
    own_logit = json.loads((pretrained_dir() / "voxels" / "config.json").read_text())["occupancy_logit"]
    own, own_request = _sample(tmp_path, "own")
    same, _ = _sample(tmp_path, "same", "--occupancy-logit", str(own_logit))
    half, half_request = _sample(tmp_path, "half", "--occupancy-logit", "0")
    strict, _ = _sample(tmp_path, "strict", "--occupancy-logit", "2")
    assert own_request["occupancy_logit"] == own_logit < 0 and half_request["occupancy_logit"] == 0
    assert (own == same).all()
    assert (strict <= half).all() and (half <= own).all()  # the same decoder output, read at falling thresholds
    assert strict.sum() < half.sum() < own.sum()


def test_an_occupancy_logit_for_a_point_model_is_one_line_and_exit_code_2(tmp_path, capsys):
    code = main(["sample", "builtin:points", "--n", "1", "--occupancy-logit", "-0.5", "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--occupancy-logit" in err and "points" in err
    assert not (tmp_path / "s").exists()


def test_export_builtin_stores_the_logit_in_the_config_and_the_manifest(tmp_path, capsys):
    source = tmp_path / "source"
    shutil.copytree(pretrained_dir() / "voxels", source / "voxels")
    shutil.copy(pretrained_dir() / "manifest.json", source / "manifest.json")
    dest = tmp_path / "dest"
    assert main(["export-builtin", str(source / "voxels"), "--name", "voxels", "--dtype", "int6", "--ae-dtype", "int8",
                 "--occupancy-logit", "0.5", "--dest", str(dest)]) == 0, capsys.readouterr().err
    assert json.loads((dest / "voxels" / "config.json").read_text())["occupancy_logit"] == 0.5
    entry = json.loads((dest / "manifest.json").read_text())["models"]["voxels"]
    assert entry["occupancy_logit"] == 0.5 and entry["metrics"] is None  # another reading: measured anew
    assert entry["export_check"]["max_abs_diff"] == 0  # both sides read at 0.5: only the storage could differ
    assert "logit exceeds 0.5" in (dest / "README.md").read_text()


def test_export_builtin_refuses_a_logit_for_a_point_model_before_writing(tmp_path, capsys):
    dest = tmp_path / "dest"
    code = main(["export-builtin", str(pretrained_dir() / "points"), "--name", "points", "--occupancy-logit", "0",
                 "--dest", str(dest)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--occupancy-logit" in err and "points" in err and not dest.exists()
