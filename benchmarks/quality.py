"""Quality of a model against the ModelNet10 test split, per class, as the README's quality table reports it.

For each class and seed: ``sample MODEL --class C --n N --guidance W --steps 20 --sampler X --seed S``
then ``eval samples --ref REF --split test --class C`` (the same jobs the CLI runs, in one process), on the
raw decoder output; then the mean over seeds, with the range. ``--oracle`` scores N random train shapes
of each class in the model's representation instead (``eval --oracle --repr R``), the score no
generator of that representation can beat. ``--recon`` scores N random train shapes passed through the
model's autoencoder: the score its stage 1 allows a denoiser that lands on train latents. Metrics: ``cd``
for points and splats, ``cd,iou`` for voxels, plus ``floaters`` / ``one_piece`` for voxels and splats.

Run: ``python benchmarks/quality.py builtin:voxels --classes chair,sofa,table --seeds 0,1,2,3 --guidance 2
[--sampler S] [--oracle | --recon] [--json OUT]`` (prints one JSON object); the sampler is the model's own
(its manifest's ``sampler``) unless ``--sampler`` names one.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LATENT3D_SHARED_DATA", ROOT.parent / "shared" / "data"))
REFERENCE = SHARED_DATA / "modelnet10_pointclouds_1024"
#: metrics per representation: Chamfer everywhere, IoU where the samples are grids
METRICS = {"points": ("cd",), "voxels": ("cd", "iou"), "splats": ("cd",)}
#: sampler steps of every figure in the table
STEPS = 20


def score(model: str, representation: str, class_name: str, seed: int, n: int, guidance: float, sampler: str,
          source: str) -> dict[str, float]:
    """One class, one seed: the eval JSON's metrics of the model's samples, the oracle or the reconstructions."""
    import numpy as np

    from core.jobs.evaluate import EvalJob
    from core.jobs.sample import SampleJob

    metrics = METRICS[representation]
    if source == "oracle":
        return EvalJob(None, REFERENCE, class_name=class_name, n=n, metrics=metrics, oracle=True, seed=seed,
                       representation=representation).run().metrics
    with tempfile.TemporaryDirectory() as out:
        if source == "recon":
            np.save(Path(out) / "samples.npy", reconstructions(model, class_name, n, seed))
        else:
            SampleJob(model, n, out, class_name=class_name, guidance=guidance, steps=STEPS, sampler=sampler,
                      seed=seed, fmt="npy").run()
        return EvalJob(Path(out) / "samples.npy", REFERENCE, class_name=class_name, metrics=metrics,
                       seed=seed).run().metrics


def reconstructions(model: str, class_name: str, n: int, seed: int):
    """n random train shapes of the class, made by the training loader, through the model's EMA autoencoder,
    as the arrays sampling exports."""
    import numpy as np
    import torch

    from core.data import open_dataset
    from core.training import load_trained

    trained = load_trained(model)
    adapter, data = trained.representation, trained.config.data
    train = open_dataset(REFERENCE).subset(classes=[class_name], split="train")
    rows = np.random.default_rng(seed).choice(len(train), size=min(n, len(train)), replace=False)
    stored = adapter.load(train, data["n_points"], data["resolution"])[torch.from_numpy(rows)]
    with torch.inference_mode():
        return adapter.to_array(trained.autoencoder.decode(trained.autoencoder.encode(adapter.model_input(stored))))


def run(model: str, classes: list[str], seeds: list[int], n: int, guidance: float, sampler: str | None,
        source: str) -> dict:
    """Every class over every seed, with the mean and range of each metric; ``sampler`` None is the model's own."""
    sys.path.insert(0, str(ROOT))
    from core.jobs.sample import sampler_for
    from core.training import load_trained

    sampler = sampler_for(model, sampler)

    representation = load_trained(model).config.representation
    table = {}
    for class_name in classes:
        per_seed = {seed: score(model, representation, class_name, seed, n, guidance, sampler, source) for seed in seeds}
        names = next(iter(per_seed.values()))
        table[class_name] = {
            "seeds": per_seed,
            "mean": {k: round(sum(r[k] for r in per_seed.values()) / len(seeds), 4) for k in names},
            "range": {k: [round(min(r[k] for r in per_seed.values()), 4), round(max(r[k] for r in per_seed.values()), 4)]
                      for k in names},
        }
        print(class_name, table[class_name]["mean"], file=sys.stderr)
    sampled = source == "samples"
    return {"model": model, "source": source, "oracle": source == "oracle", "n": n,
            "guidance": guidance if sampled else None, "steps": STEPS,
            "sampler": sampler if sampled else None, "seeds": seeds, "reference": str(REFERENCE), "classes": table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="run folder or builtin:NAME")
    parser.add_argument("--classes", default="chair,sofa,table")
    parser.add_argument("--seeds", default="0,1,2,3")
    parser.add_argument("--n", type=int, default=100, help="samples per class and seed (the test split has 100)")
    parser.add_argument("--guidance", type=float, default=1.0)
    parser.add_argument("--sampler", default=None,
                        help="the sampler of `sample --sampler` (default: a built-in model's own, else dpmpp)")
    sources = parser.add_mutually_exclusive_group()
    sources.add_argument("--oracle", action="store_true", help="score train shapes in the model's representation")
    sources.add_argument("--recon", action="store_true", help="score train shapes through the model's autoencoder")
    parser.add_argument("--json", help="also write the JSON here")
    args = parser.parse_args()
    source = "oracle" if args.oracle else "recon" if args.recon else "samples"
    result = run(args.model, args.classes.split(","), [int(s) for s in args.seeds.split(",")], args.n, args.guidance,
                 args.sampler, source)
    report(result, args.json)


def report(result: dict, json_path: str | None) -> None:
    """Print the result as JSON and, where ``json_path`` names a file, write it there too."""
    text = json.dumps(result, indent=2)
    if json_path:
        Path(json_path).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
