"""Metric speed: the pairwise Chamfer matrix and EMD-based 1-NNA, each against a naive baseline.

Targets (issue 5, 2 CPU cores): the Chamfer matrix of 1,000 x 1,000 clouds of 2,048 points in
<= 60 s; EMD-based 1-NNA on 100 x 100 clouds. Both full sizes take far longer than a benchmark
run may, so a block of pairs is timed and the full size extrapolated by the number of pairs
(the work is the same per pair): ``*_extrapolated_s`` says so. Baselines, timed in the same run on
the same pairs: a per-pair broadcast ``(a[:, None] - b[None]).square().sum(-1)`` Chamfer loop, and
for EMD every ordered pair solved on its own (no symmetry), as a straightforward script would.
Run: ``python benchmarks/bench_metrics.py [--quick]`` (prints one JSON object).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAMFER_POINTS, CHAMFER_SETS = 2048, 1000
EMD_POINTS, EMD_SETS = 1024, 100


def _seconds(work) -> tuple[float, float]:
    """Wall and CPU seconds of ``work()``: on a shared machine the CPU time (over the thread count)
    estimates what an idle machine would take, the wall time what this run actually took."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def run(quick: bool = False) -> dict:
    """Time a block of the Chamfer matrix and a few EMD solves; extrapolate to the target sizes."""
    sys.path.insert(0, str(ROOT))
    import torch

    from core.metrics.distances import emd_exact, pairwise_chamfer

    gen = torch.Generator().manual_seed(0)
    block = 8 if quick else 24
    x = torch.rand(block, CHAMFER_POINTS, 3, generator=gen) - 0.5
    y = torch.rand(block, CHAMFER_POINTS, 3, generator=gen) - 0.5
    ours, ours_cpu = (t / block ** 2 for t in _seconds(lambda: pairwise_chamfer(x, y)))

    def naive_pair(a, b):
        d = (a[:, None] - b[None]).square().sum(-1)
        return d.min(1).values.mean() + d.min(0).values.mean()

    naive_pairs = 4 if quick else 12
    naive, naive_cpu = (t / naive_pairs for t in _seconds(lambda: [naive_pair(x[i], y[i]) for i in range(naive_pairs)]))
    full_pairs = CHAMFER_SETS ** 2

    # EMD 1-NNA on n x n needs n^2 + 2 * n(n-1)/2 solves with symmetry, 3 n^2 without
    solves = 3 if quick else 8
    a = torch.rand(solves, EMD_POINTS, 3, generator=gen) - 0.5
    b = torch.rand(solves, EMD_POINTS, 3, generator=gen) - 0.5
    per_solve, per_solve_cpu = (t / solves for t in _seconds(lambda: emd_exact(a, b)))
    threads = torch.get_num_threads()
    ours_solves = EMD_SETS ** 2 + EMD_SETS * (EMD_SETS - 1)
    naive_solves = 3 * EMD_SETS ** 2
    return {
        "chamfer_matrix": {
            "clouds": CHAMFER_SETS, "points": CHAMFER_POINTS, "timed_block": f"{block}x{block}",
            "ms_per_pair": round(ours * 1e3, 3), "naive_ms_per_pair": round(naive * 1e3, 3),
            "extrapolated_s": round(ours * full_pairs, 1), "naive_extrapolated_s": round(naive * full_pairs, 1),
            "speedup_vs_naive": round(naive / ours, 2), "target_s": 60,
            "cpu_ms_per_pair": round(ours_cpu * 1e3, 3), "naive_cpu_ms_per_pair": round(naive_cpu * 1e3, 3),
            "idle_estimate_s": round(ours_cpu * full_pairs / threads, 1),
            "cpu_speedup_vs_naive": round(naive_cpu / ours_cpu, 2),
        },
        "emd_1nna": {
            "clouds": EMD_SETS, "points": EMD_POINTS, "solver": "exact (scipy linear_sum_assignment)",
            "s_per_solve": round(per_solve, 4), "solves": ours_solves, "naive_solves": naive_solves,
            "extrapolated_s": round(per_solve * ours_solves, 1),
            "naive_extrapolated_s": round(per_solve * naive_solves, 1),
            "speedup_vs_naive": round(naive_solves / ours_solves, 2),
            "cpu_s_per_solve": round(per_solve_cpu, 4), "idle_estimate_s": round(per_solve_cpu * ours_solves, 1),
        },
        "threads": threads,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(run(quick=parser.parse_args().quick), indent=2))
