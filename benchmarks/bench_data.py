"""Data loading speed: ModelNet10 train split cold and cached, and 100 meshes to 2,048 points.

Targets (issue 3, 2 CPU cores): the whole ModelNet10 train split (3,991 clouds resampled to 2,048
points and normalised) loads in < 3 s; 100 meshes (91 built-in + the 9 real ModelNet OFF files,
read or generated, sampled, normalised) become 2,048-point clouds in < 10 s; the cached second
load is much faster than the first. Times are reported in seconds and as ratios to the cold
ModelNet10 load of the same run, because absolute times on a shared machine vary with its load.
Run: ``python benchmarks/bench_data.py [--quick]`` (prints one JSON object).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LATENT3D_SHARED_DATA", ROOT.parent / "shared" / "data"))
N_POINTS = 2048
MESHES = 100


def _timed(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def run(quick: bool = False) -> dict:
    """Measure the three loads in a fresh cache folder; ``quick`` converts 20 meshes instead of 100."""
    sys.path.insert(0, str(ROOT))
    from core.data import ShapeDataset, open_dataset

    modelnet10 = SHARED_DATA / "modelnet10_pointclouds_1024"
    meshes = MESHES // 5 if quick else MESHES
    with tempfile.TemporaryDirectory() as cache:
        os.environ["LATENT3D_CACHE"] = cache

        def load_train():
            return open_dataset(modelnet10).subset(split="train").points(N_POINTS)

        first_s, first = _timed(load_train)
        cached_s, cached = _timed(load_train)
        assert first.shape == cached.shape == (3991, N_POINTS, 3)

        def convert_meshes():
            real = open_dataset(SHARED_DATA / "modelnet_off")
            builtin = open_dataset("builtin").subset(split="train")
            picks = builtin.records[:: max(1, len(builtin) // (meshes - len(real)))][: meshes - len(real)]
            spread = ShapeDataset(builtin.source, picks, builtin.classes)  # every class, not just chairs
            return len(real.points(N_POINTS)) + len(spread.points(N_POINTS))

        meshes_s, converted = _timed(convert_meshes)
    return {
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "modelnet10_train_first_load_s": round(first_s, 3),
        "modelnet10_train_first_load_target_s": 3.0,
        "modelnet10_train_cached_load_s": round(cached_s, 3),
        "cached_over_first": round(cached_s / first_s, 3),
        "meshes_converted": converted,
        "meshes_to_points_s": round(meshes_s, 3),
        "meshes_to_points_target_s": 10.0 * converted / MESHES,
        "meshes_to_points_over_first_load": round(meshes_s / first_s, 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 meshes instead of 100")
    print(json.dumps(run(parser.parse_args().quick), indent=2))
