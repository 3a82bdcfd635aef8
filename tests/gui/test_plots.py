"""The pages' plots: log-axis labels that cannot collide, legends outside the data area."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.plots import DecadeLogAxis, legend_below


def test_log_axis_labels_1_2_5_over_a_short_range_and_decades_over_a_long_one(qtbot):
    plot = pg.PlotWidget(axisItems={"left": DecadeLogAxis("left")})
    qtbot.addWidget(plot)
    plot.setLogMode(y=True)
    axis = plot.getAxis("left")
    values = list(np.log10([0.03, 0.05, 0.07, 0.1, 0.2, 0.9, 1.0]))
    axis.setRange(np.log10(0.03), 0.0)
    assert axis.logTickStrings(values, 1.0, 1.0) == ["", "0.05", "", "0.1", "0.2", "", "1"]
    axis.setRange(-4.0, 0.0)
    assert axis.logTickStrings(values, 1.0, 1.0) == ["", "", "", "0.1", "", "", "1"]


def test_legend_sits_under_the_plot_and_collects_named_curves(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    legend = legend_below(plot)
    plot.plot([0, 1, 2], [3, 1, 2], name="samples")
    plot.plot([0, 1, 2], [1, 2, 3], name="oracle")
    plot.resize(300, 220)
    plot.show()
    qtbot.waitExposed(plot)
    assert [label.text for _, label in legend.items] == ["samples", "oracle"]
    view = plot.getPlotItem().getViewBox().sceneBoundingRect()
    assert legend.sceneBoundingRect().top() >= view.bottom()  # below the data, never over it
    plot.getPlotItem().clear()
    assert legend.items == []
