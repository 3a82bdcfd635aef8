"""Metric speed: the pairwise Chamfer matrix and EMD-based 1-NNA, against brute force measured in the same run.

Targets (issue 5, 2 CPU cores): the Chamfer matrix of 1,000 x 1,000 clouds of 2,048 points in
<= 60 s; EMD-based 1-NNA on 100 x 100 clouds of 2,048 points. Clouds: ModelNet10 train shapes at
2,048 points, bbox-normalised (the evaluation's frame). The full run times the whole Chamfer matrix
(exact candidate grids, :mod:`core.metrics.grid_chamfer`); ``--quick`` times a fraction of its rows
and extrapolates by rows. Brute force (``pairwise_chamfer_dense``, the previous implementation) is
timed on a block of pairs and extrapolated by pairs. EMD 1-NNA needs n^2 + n(n-1) solves
(ref x sample, and the two symmetric sets); a batch of them is timed (auction, and the exact solver
on a few) and extrapolated. CPU seconds / threads estimate an idle machine; wall is what this run took.
Run: ``python benchmarks/bench_metrics.py [--quick]`` (prints one JSON object).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "modelnet10_pointclouds_1024"
CHAMFER_POINTS, CHAMFER_SETS = 2048, 1000
EMD_POINTS, EMD_SETS = 2048, 100


def _seconds(work) -> tuple[float, float, object]:
    """Wall and CPU seconds of ``work()`` and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _clouds(count: int):
    """``count`` ModelNet10 train shapes (a fixed random choice) at 2,048 points, bbox-normalised."""
    import numpy as np
    import torch

    from core.data import open_dataset
    from core.metrics.normalisation import normalise_clouds

    train = open_dataset(DATA).subset(split="train").points(n_points=CHAMFER_POINTS)
    pick = np.random.default_rng(0).choice(len(train), size=count, replace=False)
    return torch.from_numpy(normalise_clouds(train[pick]))


def run(quick: bool = False) -> dict:
    """Time the Chamfer matrix (full or a fraction of rows) and a batch of EMD solves; extrapolate where said."""
    sys.path.insert(0, str(ROOT))
    import torch

    from core.metrics.distances import emd_auction, emd_exact, pairwise_chamfer, pairwise_chamfer_dense

    clouds = _clouds(2 * CHAMFER_SETS)
    x, y = clouds[:CHAMFER_SETS], clouds[CHAMFER_SETS:]
    threads = torch.get_num_threads()
    pairwise_chamfer(x[:2], y[:2])  # compile / load the kernels outside the timing
    rows = 100 if quick else CHAMFER_SETS
    # rows of x against all of y: both directions' work scales with the rows (queries and sites)
    wall, cpu, matrix = _seconds(lambda: pairwise_chamfer(x[:rows], y))
    scale = CHAMFER_SETS / rows
    block = 6 if quick else 12
    dense_wall, dense_cpu, dense = _seconds(lambda: pairwise_chamfer_dense(x[:block], y[:block]))
    pairs = block * block
    dense_full = dense_wall / pairs * CHAMFER_SETS ** 2
    dense_full_cpu = dense_cpu / pairs * CHAMFER_SETS ** 2
    chamfer = {
        "clouds": CHAMFER_SETS, "points": CHAMFER_POINTS, "rows_timed": rows, "extrapolated": rows < CHAMFER_SETS,
        "wall_s": round(wall * scale, 1), "cpu_s": round(cpu * scale, 1),
        "idle_estimate_s": round(cpu * scale / threads, 1), "target_s": 60,
        "brute_force_block": f"{block}x{block}", "brute_force_extrapolated_wall_s": round(dense_full, 1),
        "brute_force_extrapolated_cpu_s": round(dense_full_cpu, 1),
        "speedup_vs_brute_force_wall": round(dense_full / (wall * scale), 1),
        "speedup_vs_brute_force_cpu": round(dense_full_cpu / (cpu * scale), 1),
        "max_abs_diff_vs_brute_force": float((matrix[:block, :block] - dense).abs().max()),
    }
    solves = 2 * threads if quick else 8 * threads
    a, b = clouds[:solves], clouds[solves:2 * solves]
    emd_auction(a[:1], b[:1])  # compile / load
    per_wall, per_cpu, _ = _seconds(lambda: emd_auction(a, b))
    exact_solves = 1 if quick else 2
    exact_wall, exact_cpu, _ = _seconds(lambda: emd_exact(a[:exact_solves], b[:exact_solves]))
    needed = EMD_SETS ** 2 + EMD_SETS * (EMD_SETS - 1)
    emd = {
        "clouds": EMD_SETS, "points": EMD_POINTS, "solver": "auction (eps-scaled, numba, parallel over pairs)",
        "solves": needed, "solves_timed": solves, "extrapolated": True,
        "wall_s": round(per_wall / solves * needed, 1), "cpu_s": round(per_cpu / solves * needed, 1),
        "idle_estimate_s": round(per_cpu / solves * needed / threads, 1),
        "exact_cpu_s_per_solve": round(exact_cpu / exact_solves, 3),
        "auction_cpu_s_per_solve": round(per_cpu / solves, 3),
        "exact_extrapolated_cpu_s": round(exact_cpu / exact_solves * needed, 1),
    }
    return {"chamfer_matrix": chamfer, "emd_1nna": emd, "threads": threads, "load_average": os.getloadavg()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(run(quick=parser.parse_args().quick), indent=2))
