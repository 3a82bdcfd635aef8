"""pyqtgraph pieces the pages share: a log axis with readable labels and a legend that never covers the data."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

#: over more than this many decades only powers of ten are labelled, below it also 2× and 5× them
DENSE_LABEL_DECADES = 2.0


class DecadeLogAxis(pg.AxisItem):
    """A log axis labelling 1, 2 and 5 × 10^k (only 10^k over a wide range): pyqtgraph labels every minor tick
    (0.02, 0.03, … 0.09), which collide on a plot a couple of hundred pixels high."""

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        span = abs(self.range[1] - self.range[0])
        kept = (1.0,) if span > DENSE_LABEL_DECADES else (1.0, 2.0, 5.0)
        labels = []
        for value in 10 ** np.asarray(values, dtype=float) * scale:
            mantissa = value / 10 ** np.floor(np.log10(value) + 1e-9)
            labels.append(f"{value:.3g}" if np.isclose(mantissa, kept, rtol=1e-3).any() else "")
        return labels


def legend_below(plot: pg.PlotWidget, columns: int = 4) -> pg.LegendItem:
    """A one-row legend under the plot's x axis, outside the data area; curves added with ``name=`` join it."""
    item = plot.getPlotItem()
    legend = pg.LegendItem(colCount=columns)
    item.layout.addItem(legend, item.layout.rowCount(), 1)
    item.legend = legend  # PlotItem.addItem puts named items into ``legend``
    return legend
