"""Every ``sample --format`` holds every representation, and reads back through our own readers (issue 23)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.io import read_array, read_shape
from core.jobs.sample import FORMATS
from core.shapes import GaussianSplats, Mesh, PointCloud

#: what a per-shape file of each format reads back as, per representation (OBJ and GLB are always meshes)
READS_AS = {"points": {"ply": PointCloud}, "splats": {"ply": GaussianSplats}, "voxels": {"ply": Mesh}}


@pytest.mark.parametrize("representation", sorted(READS_AS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_written_for_every_representation(representation, fmt, tmp_path, capsys):
    out = tmp_path / "samples"
    code = main(["sample", f"builtin:{representation}", "--n", "1", "--steps", "4", "--format", fmt,
                 "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    array = read_array(out / "samples.npy")
    assert len(array) == 1 and np.isfinite(array).all()
    files = sorted(out.glob(f"sample_*.{fmt}"))
    if fmt == "npy":
        assert not files
        return
    assert len(files) == 1
    shape = read_shape(files[0])
    assert type(shape) is READS_AS[representation].get(fmt, Mesh)
    if isinstance(shape, Mesh) and representation == "points":  # meshed in the cloud's own frame
        cloud = array[0]
        assert np.allclose(shape.vertices.min(0), cloud.min(0), atol=0.1)
        assert np.allclose(shape.vertices.max(0), cloud.max(0), atol=0.1)


def test_an_unknown_format_is_refused_by_the_parser_before_loading(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["sample", str(tmp_path / "no-such-run"), "--format", "stl", "--out", str(tmp_path / "s")])
    assert stop.value.code == 2 and "invalid choice: 'stl'" in capsys.readouterr().err
    assert not Path(tmp_path / "s").exists()


def test_keep_largest_piece_writes_voxel_samples_in_one_piece_and_records_it(tmp_path, capsys):
    import json

    from core.metrics.fragmentation import fragments

    raw, kept = tmp_path / "raw", tmp_path / "kept"
    request = ["sample", "builtin:voxels", "--class", "chair", "--n", "6", "--steps", "4", "--seed", "3",
               "--format", "npy"]
    assert main([*request, "--out", str(raw)]) == 0
    assert main([*request, "--keep-largest-piece", "--out", str(kept)]) == 0, capsys.readouterr().err
    before, after = read_array(raw / "samples.npy"), read_array(kept / "samples.npy")
    assert fragments(after > 0).summary() == {"floaters": 0.0, "one_piece": 1.0}
    assert (after <= before).all() and after.sum() > 0  # cells only removed, the same samples otherwise
    pieces_before = fragments(before > 0)
    assert pieces_before.summary()["one_piece"] < 1  # 4 steps leave some in pieces: there is something to drop
    whole = pieces_before.components == 1
    assert (after[whole] == before[whole]).all()  # a sample already in one piece is untouched
    assert json.loads((kept / "samples.json").read_text())["keep_largest_piece"] is True
    assert json.loads((raw / "samples.json").read_text())["keep_largest_piece"] is False


def test_keep_largest_piece_refuses_a_point_model_in_one_line(tmp_path, capsys):
    code = main(["sample", "builtin:points", "--n", "1", "--keep-largest-piece", "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--keep-largest-piece" in err and "points" in err
    assert not (tmp_path / "s").exists()
