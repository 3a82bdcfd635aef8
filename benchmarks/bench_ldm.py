"""Latent diffusion speed, and the ε-vs-v measurement behind the default ``--prediction``.

* ``train_speed``: optimiser steps/s of each stage through the real :class:`Trainer` (EMA, clipping
  included) for a preset's networks on random data of the right shapes (speed does not depend on
  the values).
* ``sampling_speed``: seconds to sample 16 shapes with 20 DPM-Solver++ steps and classifier-free
  guidance, decode included (target <= 1 s on 2 CPU cores), next to DDPM with 1,000 steps in the same
  process; reported with the ratio, because absolute times on a shared machine vary with its load.
* ``compare_predictions``: trains the same tiny chair run with ε and with v prediction and scores
  samples against test chairs (MMD-CD, COV, 1-NNA; PointFlow's definitions in core.metrics).

Run: ``python benchmarks/bench_ldm.py [--quick] [--preset small] [--predictions]`` (prints one JSON object).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_DATA = Path(os.environ.get("LATENT3D_SHARED_DATA", ROOT.parent / "shared" / "data"))
H5_TRAIN = SHARED_DATA / "modelnet10_pointclouds_1024" / "modelnet10_pcd1024_train.h5"
H5_TEST = SHARED_DATA / "modelnet10_pointclouds_1024" / "modelnet10_pcd1024_test.h5"

import torch  # noqa: E402

from core.diffusion import LatentDiffusionPipeline, noise_schedule_config  # noqa: E402
from core.jobs import CancelToken  # noqa: E402
from core.models import autoencoder_config, build_autoencoder, build_denoiser, denoiser_config  # noqa: E402
from core.training.presets import training_preset  # noqa: E402
from core.training.representations import representation  # noqa: E402
from core.training.stages import autoencoder_loss, denoiser_loss  # noqa: E402
from core.training.trainer import TrainConfig, Trainer  # noqa: E402

NUM_CLASSES = 10
N_SHAPES, FAST_STEPS, GUIDANCE = 16, 20, 3.0


def _networks(preset: str, name: str):
    n_points = training_preset(preset).n_points
    ae = build_autoencoder(autoencoder_config(preset, name, "ae", n_points=n_points))
    denoiser = build_denoiser(denoiser_config(preset, ae.latent_shape, "class", NUM_CLASSES))
    return ae, denoiser, n_points


def _random_shapes(name: str, count: int, n_points: int) -> torch.Tensor:
    if name == "points":
        return torch.nn.functional.normalize(torch.randn(count, n_points, 3), dim=-1)
    return torch.rand(count, 32, 32, 32) > 0.9


def train_speed(name: str, preset: str = "small", steps: int = 5) -> dict:
    """Train steps/s of stage 1 and stage 2 (after one warm-up step) at the preset's batch sizes."""
    from core.diffusion.schedulers import alphas_cumprod

    settings = training_preset(preset)
    ae, denoiser, n_points = _networks(preset, name)
    rep = representation(name)
    result = {}
    with tempfile.TemporaryDirectory() as folder:
        jobs = [("ae", ae, autoencoder_loss(rep), [_random_shapes(name, 64, n_points)], settings.ae_batch_size),
                ("ldm", denoiser, denoiser_loss(alphas_cumprod(noise_schedule_config()), "epsilon", "class",
                                                NUM_CLASSES),
                 [torch.randn(256, *ae.latent_shape), torch.randint(0, NUM_CLASSES, (256,))],
                 settings.ldm_batch_size)]
        for stage, model, loss, data, batch in jobs:
            config = TrainConfig(steps=steps + 1, batch_size=batch, lr=1e-4, log_every=10 ** 9,
                                 checkpoint_every=10 ** 9)
            trainer = Trainer(stage, model, loss, data, None, config, Path(folder), {}, torch.device("cpu"),
                              lambda e: None, CancelToken())
            trainer.config.steps = 1
            trainer.fit()  # warm-up step: allocator, first-call overheads
            trainer.config.steps = steps + 1
            start = time.perf_counter()
            trainer.fit()
            result[f"{stage}_steps_per_s"] = steps / (time.perf_counter() - start)
            result[f"{stage}_batch_size"] = batch
    return result


def sampling_speed(name: str, preset: str = "small", baseline_steps: int = 1000) -> dict:
    """Seconds for 16 guided shapes with 20 DPM-Solver++ steps, decoded, and for DDPM in the same process."""
    ae, denoiser, _ = _networks(preset, name)
    pipeline = LatentDiffusionPipeline(ae, denoiser, noise_schedule_config(), 1.0, NUM_CLASSES)
    cond = torch.zeros(N_SHAPES, dtype=torch.long)
    pipeline(N_SHAPES, cond, GUIDANCE, 2, "dpmpp", seed=0)  # warm-up: diffusers import, first-call kernels

    def timed(steps: int, sampler: str) -> float:
        start = time.perf_counter()
        pipeline(N_SHAPES, cond, GUIDANCE, steps, sampler, seed=0)
        return time.perf_counter() - start

    fast, slow = timed(FAST_STEPS, "dpmpp"), timed(baseline_steps, "ddpm")
    return {"dpmpp20_s": fast, f"ddpm{baseline_steps}_s": slow, "ddpm_1000_s_estimate": slow * 1000 / baseline_steps,
            "dpmpp20_over_ddpm1000": fast / (slow * 1000 / baseline_steps), "target_s": 1.0}


def compare_predictions(ae_steps: int = 100, ldm_steps: int = 300, n_samples: int = 32) -> dict:
    """Train a tiny class-conditioned chair run per prediction type; score samples against test chairs."""
    from core.data import open_dataset
    from core.metrics.distances import pairwise_chamfer
    from core.metrics.distributions import mmd_cov, one_nn_accuracy
    from core.training import RunSpec, load_trained, train_run

    n_points = training_preset("tiny").n_points
    refs = torch.from_numpy(open_dataset(H5_TEST).subset(classes=["chair"]).points(n_points))[:n_samples]
    d_ref = pairwise_chamfer(refs, refs)
    scores = {}
    with tempfile.TemporaryDirectory() as folder:
        for prediction in ("epsilon", "v"):
            run = Path(folder) / prediction
            spec = RunSpec(data=str(H5_TRAIN), representation="points", classes=["chair"], cond="class",
                           preset="tiny", ae_steps=ae_steps, ldm_steps=ldm_steps, prediction=prediction)
            start = time.perf_counter()
            train_run(run, spec)
            seconds = time.perf_counter() - start
            trained = load_trained(run)
            samples = trained.pipeline()(n_samples, torch.zeros(n_samples, dtype=torch.long), GUIDANCE, FAST_STEPS,
                                         "dpmpp", seed=0)
            d_sample_ref = pairwise_chamfer(samples, refs)
            mmd, cov = mmd_cov(d_sample_ref)
            records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
            scores[prediction] = {"mmd_cd": mmd, "cov": cov,
                                  "1nna": one_nn_accuracy(d_ref, d_sample_ref.T, pairwise_chamfer(samples, samples)),
                                  "final_ldm_val_loss": [r for r in records if "val_loss" in r][-1]["val_loss"],
                                  "train_s": seconds}
    return {"ae_steps": ae_steps, "ldm_steps": ldm_steps, "n_samples": n_samples, **scores}


def run(quick: bool = False, preset: str = "small", predictions: bool = False) -> dict:
    """Every figure as one dict (``python -m core bench`` calls this); ``quick`` times DDPM over 100 steps."""
    report = {"preset": preset, "threads": torch.get_num_threads()}
    for name in ("points", "voxels"):
        report[name] = {**train_speed(name, preset), **sampling_speed(name, preset, 100 if quick else 1000)}
    if predictions:
        report["predictions"] = compare_predictions()
    return report


def main() -> None:
    """Print every figure as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small", choices=("tiny", "small", "base"))
    parser.add_argument("--quick", action="store_true", help="DDPM baseline with 100 steps, scaled to 1,000")
    parser.add_argument("--predictions", action="store_true", help="also train the ε-vs-v comparison (minutes)")
    args = parser.parse_args()
    print(json.dumps(run(args.quick, args.preset, args.predictions), indent=2))


if __name__ == "__main__":
    main()
