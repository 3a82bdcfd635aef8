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
