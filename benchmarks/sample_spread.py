"""Why a model's 1-NNA is high: its two halves, against train shapes in the samples' place.

1-NNA mixes two failures. Samples too alike find each other as nearest neighbours (the samples' half
high, the references' half near 50 %); references the samples miss find each other (the references'
half high). For N samples of a class (the model's own sampler and guidance, 20 steps) and N test shapes,
this prints one JSON object: per distance, each half and each set's mean distance to its nearest other
shape, for the samples and for N random train shapes of the class (the oracle: what a perfect generator
scores); and, against all train shapes of the class, how near the samples and the test shapes lie to
them (copies of train shapes, or shapes between them). The distances are `eval`'s: Chamfer for point
models; Chamfer between occupied-voxel centres and 1 - IoU for voxel models.

Run: ``python benchmarks/sample_spread.py builtin:points|builtin:voxels --class chair [--n 100] [--seed 0]
[--guidance W] [--occupancy-logit T]``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LATENT3D_SHARED_DATA", ROOT.parent / "shared" / "data"))
REFERENCE = SHARED_DATA / "modelnet10_pointclouds_1024"
#: sampler steps of the quality table
STEPS = 20
#: (x, y) -> the (len x, len y) distance matrix between two shape sets (torch tensors)
Pairwise = Callable[[Any, Any], Any]
#: ``shapes``' n for every shape of the class and split
ALL = 1_000_000


def spread(samples, refs, pairwise: Pairwise) -> dict[str, float]:
    """1-NNA of n samples against m references under ``pairwise(x, y)`` (an (len x, len y) distance
    matrix), its two halves and each set's mean distance to its nearest other shape."""
    from core.metrics.distributions import one_nn_accuracy, one_nn_sides, union_distances

    d_rr, d_rs, d_ss = pairwise(refs, refs), pairwise(refs, samples), pairwise(samples, samples)
    refs_side, samples_side = one_nn_sides(d_rr, d_rs, d_ss)
    nearest = union_distances(d_rr, d_rs, d_ss).min(dim=1).values
    return {"1-NNA": one_nn_accuracy(d_rr, d_rs, d_ss), "references_own": refs_side, "samples_own": samples_side,
            "references_nearest": nearest[:len(refs)].mean().item(),
            "samples_nearest": nearest[len(refs):].mean().item()}


def closeness_to_train(shapes, train, pairwise: Pairwise) -> dict[str, float]:
    """How near a set lies to the class's train shapes: the median distance to the nearest one and how many
    distinct train shapes are someone's nearest. Samples nearer than test shapes are copies of train shapes
    (memorised); farther, they fall between them."""
    nearest = pairwise(shapes, train).min(dim=1)
    return {"train_nearest_median": nearest.values.median().item(),
            "train_shapes_hit": len(set(nearest.indices.tolist()))}


def distances(representation: str, model: str) -> dict[str, Pairwise]:
    """``eval``'s distances for a representation, by the suffix its metric keys carry."""
    from core.metrics.distances import pairwise_chamfer, pairwise_iou, pairwise_voxel_chamfer

    if representation == "points":
        return {"CD": pairwise_chamfer}
    if representation == "voxels":
        return {"CD": pairwise_voxel_chamfer, "IoU": lambda x, y: 1.0 - pairwise_iou(x, y)}
    raise SystemExit(f"{model}: a {representation} model; sample_spread scores point clouds and voxel grids")


def shapes(class_name: str, split: str, n: int, seed: int, run):
    """n random clouds of the class and split, loaded as the run's training loaded them."""
    import numpy as np
    import torch

    from core.data import open_dataset

    subset = open_dataset(REFERENCE).subset(classes=[class_name], split=split)
    stored = run.representation.load(subset, run.config.data["n_points"], run.config.data["resolution"])
    rows = np.random.default_rng(seed).choice(len(subset), size=min(n, len(subset)), replace=False)
    return stored[torch.from_numpy(rows)].float()


def run(model: str, class_name: str, n: int, seed: int, guidance: float | None,
        occupancy_logit: float | None = None) -> dict:
    """The samples' and the oracle's spread against the same n test shapes, per distance."""
    import numpy as np
    import torch

    from core.jobs.sample import SampleJob
    from core.training import load_trained

    trained = load_trained(model)
    pairwise = distances(trained.config.representation, model)
    refs = shapes(class_name, "test", n, seed, trained)
    with tempfile.TemporaryDirectory() as out:
        SampleJob(model, n, out, class_name=class_name, guidance=guidance, steps=STEPS, seed=seed, fmt="npy",
                  previews=False, occupancy_logit=occupancy_logit).run()
        samples = torch.from_numpy(np.load(Path(out) / "samples.npy")).float()
    oracle = shapes(class_name, "train", n, seed + 1, trained)
    train = shapes(class_name, "train", ALL, seed, trained)
    return {"model": model, "class": class_name, "n": n, "seed": seed,
            "samples": {name: spread(samples, refs, d) for name, d in pairwise.items()},
            "oracle": {name: spread(oracle, refs, d) for name, d in pairwise.items()},
            "to_train": {name: {"samples": closeness_to_train(samples, train, d),
                                "references": closeness_to_train(refs, train, d)} for name, d in pairwise.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a point or voxel model: builtin:NAME or a run folder")
    parser.add_argument("--class", dest="class_name", required=True)
    parser.add_argument("--n", type=int, default=100, help="samples and test shapes (default 100, as the quality table)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--guidance", type=float, help="default: the model's own")
    parser.add_argument("--occupancy-logit", type=float, help="voxel models: default the model's own")
    args = parser.parse_args()
    json.dump(run(args.model, args.class_name, args.n, args.seed, args.guidance, args.occupancy_logit), sys.stdout,
              indent=2)
    print()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
