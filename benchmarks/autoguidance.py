"""Autoguidance (Karras et al. 2024, arXiv:2406.02507): a model guided by a weaker version of itself, scored per class.

Classifier-free guidance pushes a sample away from the unconditional model, which keeps the class but narrows the
variety; autoguidance pushes it away from a "bad" model of the same task and conditioning (smaller, trained
shorter), whose errors are the ones to move away from, and was reported to keep the variety. Its denoiser output is
``guide + w (model − guide)``, both conditioned: :class:`AutoGuided` makes CFG's one batched call compute exactly
that, so the pipeline, the samplers and the seeds are the ones ``sample`` uses. Samples are scored like
``benchmarks/quality.py`` (1-NNA-CD, plus IoU, floaters and one_piece for voxels), against the test split, or
against 100 train shapes per seed (``--split train``), the split sampling settings are screened on.

Run: ``python benchmarks/autoguidance.py builtin:voxels RUN --guidance 1.5,2 [--split train --seeds 5,6,7]
[--classes chair,sofa,table] [--json OUT]``, where RUN is the guide: the model's recipe trained shorter over the
same autoencoder (``train … --ae-from builtin:voxels --ldm-steps 3000 --out RUN``). Each model samples with its
own sampler and reads voxel cells at its own occupancy logit.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
from quality import METRICS, REFERENCE, STEPS, report  # noqa: E402  (a sibling script: the table's settings)

#: reference shapes per seed on the train split (the test split's classes have about this many)
TRAIN_REFS = 100


class AutoGuided(nn.Module):
    """Stands in for the denoiser under classifier-free guidance: CFG's batched call on [x; x] with [cond; null]
    returns [model(x, cond); guide(x, cond)], so CFG's ``u + w (c − u)`` is ``guide + w (model − guide)``.

    Only valid for the doubled call, i.e. guidance ≠ 1 (at 1 CFG calls the denoiser once, unbatched).
    """

    def __init__(self, model: nn.Module, guide: nn.Module) -> None:
        super().__init__()
        self.model, self.guide = model, guide

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        n = len(x) // 2
        return torch.cat([self.model(x[:n], t[:n], cond[:n]), self.guide(x[n:], t[n:], cond[:n])])


def autoguided_pipeline(model: str, guide: str):
    """The model's pipeline with its denoiser guided by the guide run's, and the model's loaded run."""
    from core.training import load_trained

    main_run, guide_run = load_trained(model), load_trained(guide)
    if guide_run.classes != main_run.classes or guide_run.autoencoder.latent_shape != main_run.autoencoder.latent_shape:
        raise SystemExit(f"{guide} is not a guide for {model}: its classes or latent shape differ")
    pipeline = main_run.pipeline()
    pipeline.denoiser = AutoGuided(pipeline.denoiser, guide_run.pipeline().denoiser).eval()
    return pipeline, main_run


def score(model: str, guide: str, weights: list[float], classes: list[str], seeds: list[int], split: str) -> dict:
    """Per guidance weight, class and seed: the eval metrics of 100 autoguided samples; per weight the summed
    mean 1-NNA (CD, plus IoU for voxels) over the classes, as the README's screens add them."""
    import numpy as np

    from core.jobs.evaluate import EvalJob
    from core.jobs.sample import sampler_for

    pipeline, run = autoguided_pipeline(model, guide)
    sampler = sampler_for(model)
    metrics = METRICS[run.representation.name]
    result = {"model": model, "guide": guide, "split": split, "seeds": seeds, "sampler": sampler, "weights": {}}
    for weight in weights:
        if weight == 1.0:
            raise SystemExit("--guidance 1 is the model alone: nothing to guide (use benchmarks/quality.py)")
        table = {}
        for class_name in classes:
            cond = torch.full((100,), run.classes.index(class_name), dtype=torch.long)
            per_seed = {}
            for seed in seeds:
                array = run.representation.to_array(pipeline(100, cond, weight, STEPS, sampler, seed))
                with tempfile.TemporaryDirectory() as out:
                    np.save(Path(out) / "samples.npy", array)
                    per_seed[seed] = EvalJob(Path(out) / "samples.npy", REFERENCE, split=split, class_name=class_name,
                                             metrics=metrics, seed=seed,
                                             n_ref=TRAIN_REFS if split == "train" else None).run().metrics
            table[class_name] = {"seeds": per_seed,
                                 "mean": {k: round(float(np.mean([m[k] for m in per_seed.values()])), 4)
                                          for k in next(iter(per_seed.values()))}}
        summed = sum(100 * table[c]["mean"][k] for c in classes for k in ("1-NNA-CD", "1-NNA-IoU")
                     if k in table[c]["mean"])
        result["weights"][str(weight)] = {"summed_1nna": round(summed, 2), "classes": table}
        print(weight, round(summed, 2), file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="run folder or builtin:NAME")
    parser.add_argument("guide", help="the guide: a run of the same classes over the same autoencoder")
    parser.add_argument("--guidance", default="2", help="comma-separated weights w, each other than 1")
    parser.add_argument("--classes", default="chair,sofa,table")
    parser.add_argument("--seeds", default="0,1,2,3")
    parser.add_argument("--split", choices=("test", "train"), default="test")
    parser.add_argument("--json", help="also write the JSON here")
    args = parser.parse_args()
    result = score(args.model, args.guide, [float(w) for w in args.guidance.split(",")], args.classes.split(","),
                   [int(s) for s in args.seeds.split(",")], args.split)
    report(result, args.json)


if __name__ == "__main__":
    main()
