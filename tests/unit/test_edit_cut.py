"""The cut plane completion is told about: parsing, sides, mirror images, frames and grid cells."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from core.jobs.edit_inputs import Cut, mirrored_whole
from core.shapes import Normalization


def test_a_cut_reads_and_writes_the_removed_side():
    cut = Cut.parse("z < -0.5")
    assert (cut.axis, cut.offset, cut.removed_above) == (2, -0.5, False) and str(cut) == "z<-0.5"
    with pytest.raises(InputError, match="AXIS>OFFSET"):
        Cut.parse("0>x")


def test_mirror_and_frame_keep_the_plane_where_it_was():
    cut = Cut.parse("x>1")
    points = np.array([[0.0, 2.0, 3.0], [-1.0, 0.0, 0.0]])
    whole = mirrored_whole(points, cut)
    np.testing.assert_allclose(whole[2:, 0], [2.0, 3.0])
    assert cut.kept(points).all() and not cut.kept(whole[2:]).any()
    frame = Normalization((1.0, 0.0, 0.0), 0.5)
    assert cut.in_frame(frame).offset == 0.0  # the plane went through the frame's centre
    np.testing.assert_array_equal(cut.in_frame(frame).kept(frame.apply(whole)), cut.kept(whole))


def test_kept_cells_lie_wholly_on_the_kept_side_with_the_margin():
    cells = Cut.parse("x>0").kept_cells(8)
    assert cells.shape == (8, 8, 8) and cells[:4].all() and not cells[4:].any()
    assert Cut.parse("x>0").kept_cells(8, margin_cells=1)[:3].all() and not Cut.parse("x>0").kept_cells(8, 1)[3].any()
    assert Cut.parse("y<0").kept_cells(8)[:, 4:].all() and not Cut.parse("y<0").kept_cells(8)[:, :4].any()
