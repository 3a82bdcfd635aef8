"""Latent diffusion speed per representation, on the built-in models, and the ε-vs-v measurement behind ``--prediction``.

For each of points, voxels and splats the model is the built-in one (``builtin:NAME``) when installed, else the
tiny preset's networks with random weights (labelled in ``model``; speed does not depend on the weights):

* ``sampling``: seconds from noise to decoded shapes for 1 and 16 shapes, 20 guided DPM-Solver++ steps,
  next to DDPM with 1,000 steps (``--quick``: 100, scaled) in the same process; ratios too, because
  absolute times on a shared machine vary with its load.
* ``compiled`` (not with ``--quick``): the same 16-shape sampling with ``torch.compile`` on the denoiser
  (inductor, C++ on the CPU) next to eager: compile seconds (first call) and steady-state seconds. The app
  and CLI stay eager: each process samples a handful of times, so the compile never pays back.
* ``scheduler_import``: seconds to import the built-in DPM-Solver++ (core.diffusion.dpm_solver) after torch,
  next to diffusers' (the reference it reproduces bit for bit, which the sampler no longer imports).
* ``train``: optimiser steps/s of each stage through the real :class:`Trainer` (EMA, clipping included) at
  the model's batch sizes, on random inputs of the right shapes, in float32 and under bfloat16 autocast
  (``train --bf16``; AMX/AVX512-BF16 pays for wide matrices: a width-384 DiT, not the width-128 one).
* ``cli_sample``: wall and CPU seconds of the whole ``python -m core sample builtin:NAME --class C --n 8
  --steps 20 --sampler dpmpp --seed 1 --format npy`` process, start-up included (target: 5 s on 2 cores),
  with the machine's load average, since other processes share the cores.
* ``compare_predictions`` (``--predictions``): trains the same tiny chair + sofa run with each prediction (ε, v,
  flow) and scores its chair samples against test chairs (MMD-CD, COV, 1-NNA; PointFlow's definitions in
  core.metrics).

Run: ``python benchmarks/bench_ldm.py [--quick] [--predictions]`` (prints one JSON object).
"""
from __future__ import annotations

import argparse
import copy
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_DATA = Path(os.environ.get("LATENT3D_SHARED_DATA", ROOT.parent / "shared" / "data"))
H5_TRAIN = SHARED_DATA / "modelnet10_pointclouds_1024" / "modelnet10_pcd1024_train.h5"
H5_TEST = SHARED_DATA / "modelnet10_pointclouds_1024" / "modelnet10_pcd1024_test.h5"

import torch  # noqa: E402

from core.choices import DEFAULT_GUIDANCE, DEFAULT_SAMPLE_STEPS, MODEL_REPRESENTATIONS, PREDICTIONS  # noqa: E402
from core.diffusion import LatentDiffusionPipeline, LatentNorm  # noqa: E402
from core.jobs import CancelToken  # noqa: E402
from core.training.presets import training_preset  # noqa: E402
from core.training.run_config import RunConfig  # noqa: E402
from core.training.trainer import TrainConfig, Trainer  # noqa: E402

REPRESENTATIONS = MODEL_REPRESENTATIONS
#: the classes of the built-in models (issue 8), for the random-weight stand-ins
CLASSES = ["bed", "chair", "monitor", "sofa", "table", "toilet"]
SHAPE_COUNTS, FAST_STEPS, GUIDANCE = (1, 16), DEFAULT_SAMPLE_STEPS, DEFAULT_GUIDANCE
CLI_SHAPES, CLI_TARGET_S = 8, 5.0
TRAIN_STEPS = 5


def _stand_in(name: str) -> tuple[dict, torch.nn.Module, torch.nn.Module, LatentNorm]:
    """A run config for ``name`` with the tiny preset, and its networks with random weights."""
    from core.models import AutoencoderConfig, DenoiserConfig, build_autoencoder, build_denoiser
    from core.training import RunSpec
    from core.training.representations import representation
    from core.training.run_config import build_run_config

    spec = RunSpec(data="random", representation=name, classes=CLASSES, cond="class", preset="tiny")
    config = build_run_config(spec, CLASSES, representation(name).normalization)
    return (config, build_autoencoder(AutoencoderConfig.from_dict(config.autoencoder)).eval(),
            build_denoiser(DenoiserConfig.from_dict(config.denoiser)).eval(),
            LatentNorm.global_factor(1.0))


def model_for(name: str) -> tuple[str, dict, torch.nn.Module, torch.nn.Module, LatentNorm]:
    """The built-in model ``name`` if installed, else the tiny stand-in: (label, config, ae, denoiser, latent
    normalisation)."""
    from core.training import load_trained
    from core.training.pretrained import builtin_names

    if name in builtin_names():
        run = load_trained(f"builtin:{name}")
        return f"builtin:{name}", run.config, run.autoencoder, run.denoiser, run.latent_norm
    return ("tiny preset, random weights (builtin:%s not installed)" % name, *_stand_in(name))


def _pipeline(config: RunConfig, ae, denoiser, norm: LatentNorm) -> LatentDiffusionPipeline:
    return LatentDiffusionPipeline(ae, denoiser, config.schedule, norm, config.denoiser["num_classes"])


def _sampling_seconds(pipeline: LatentDiffusionPipeline, n: int, steps: int, sampler: str) -> float:
    """Wall seconds from noise to ``n`` decoded shapes, guided, classes taken in turn."""
    cond = torch.arange(n) % pipeline.num_classes
    start = time.perf_counter()
    pipeline(n, cond, GUIDANCE, steps, sampler, seed=0)
    return time.perf_counter() - start


def sampling_speed(config: RunConfig, ae, denoiser, norm: LatentNorm, baseline_steps: int) -> dict:
    """Seconds for 1 and 16 guided shapes, decoded: 20 DPM-Solver++ steps and DDPM (same process)."""
    pipeline = _pipeline(config, ae, denoiser, norm)
    for sampler in ("dpmpp", "ddpm"):  # warm-up: first-call kernels, the diffusers import of DDPM
        pipeline(2, torch.zeros(2, dtype=torch.long), GUIDANCE, 2, sampler, seed=0)

    result = {}
    for n in SHAPE_COUNTS:
        fast = _sampling_seconds(pipeline, n, FAST_STEPS, "dpmpp")
        ddpm = _sampling_seconds(pipeline, n, baseline_steps, "ddpm") * 1000 / baseline_steps
        result[f"{n}_shapes"] = {"dpmpp20_s": round(fast, 4), "ddpm1000_s": round(ddpm, 3),
                                 "dpmpp20_over_ddpm1000": round(fast / ddpm, 5)}
    result["ddpm_steps_timed"] = baseline_steps
    return result


def compiled_speed(config: RunConfig, ae, denoiser, norm: LatentNorm) -> dict:
    """16 guided shapes, 20 DPM-Solver++ steps: eager denoiser vs ``torch.compile``'d, same process."""
    n = SHAPE_COUNTS[-1]

    def timed(network: torch.nn.Module) -> float:
        return _sampling_seconds(_pipeline(config, ae, network, norm), n, FAST_STEPS, "dpmpp")

    # a cold compile, as a user's first run has: no kernels cached on disk or from the previous model
    torch._dynamo.reset()
    try:
        with tempfile.TemporaryDirectory() as cache, mock.patch.dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache):
            compiled = torch.compile(denoiser)
            first = timed(compiled)
            eager, steady = timed(denoiser), timed(compiled)
    except Exception as exc:  # inductor needs a C++ compiler; its absence is a figure, not a crash
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    return {"shapes": n, "eager_s": round(eager, 4), "compiled_s": round(steady, 4),
            "compile_and_first_call_s": round(first, 2), "compiled_over_eager": round(steady / eager, 3)}


def scheduler_import() -> dict:
    """Start-up cost of the DPM-Solver++ implementation after ``import torch``: built-in vs diffusers'."""
    statements = {"builtin_s": "from core.diffusion.dpm_solver import DPMSolverPlusPlus",
                  "diffusers_s": "from diffusers import DPMSolverMultistepScheduler"}
    result = {}
    for key, statement in statements.items():
        code = f"import time, torch; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"})
        result[key] = round(float(done.stdout.split()[-1]), 3)
    result["builtin_over_diffusers"] = round(result["builtin_s"] / result["diffusers_s"], 4)
    return result


def _random_input(config: RunConfig, count: int) -> torch.Tensor:
    """Autoencoder inputs of the right shape: unit-sphere clouds, or sparse 0/1 grids of every channel."""
    ae = config.autoencoder
    if config.representation == "points":
        return torch.nn.functional.normalize(torch.randn(count, ae["n_points"], 3), dim=-1)
    resolution = ae["resolution"]
    return (torch.rand(count, ae["in_channels"], resolution, resolution, resolution) > 0.9).float()


def train_speed(config: RunConfig, ae, denoiser) -> dict:
    """Train steps/s of stage 1 and stage 2 (after one warm-up step) at the model's batch sizes."""
    from core.diffusion.schedulers import alphas_cumprod
    from core.training.stages import denoiser_loss

    num_classes = config.denoiser["num_classes"]
    latent_shape = tuple(config.denoiser["latent_shape"])

    def ae_loss(model, batch, generator):
        return model(batch[0]).loss, {}

    jobs = [("ae", copy.deepcopy(ae).train(), ae_loss, [_random_input(config, 32)], config.train["ae"]),
            ("ldm", copy.deepcopy(denoiser).train(),
             denoiser_loss(alphas_cumprod(config.schedule), config.schedule["prediction_type"], "class",
                           num_classes),
             [torch.randn(256, *latent_shape), torch.randint(0, num_classes, (256,))], config.train["ldm"])]
    result = {}
    with tempfile.TemporaryDirectory() as folder:
        for (stage, model, loss, data, settings), bf16 in itertools.product(jobs, (False, True)):
            batch = min(settings["batch_size"], len(data[0]))
            train_config = TrainConfig(steps=1, batch_size=batch, lr=1e-4, log_every=10 ** 9,
                                       checkpoint_every=10 ** 9, bf16=bf16)
            trainer = Trainer(stage, model, loss, data, None, train_config, Path(folder), {}, torch.device("cpu"),
                              lambda e: None, CancelToken())
            trainer.fit()  # warm-up step: allocator, first-call overheads
            trainer.config.steps = TRAIN_STEPS + 1
            start = time.perf_counter()
            trainer.fit()
            key = f"{stage}_bf16_steps_per_s" if bf16 else f"{stage}_steps_per_s"
            result[key] = round(TRAIN_STEPS / (time.perf_counter() - start), 3)
            result[f"{stage}_batch_size"] = batch
        for stage in ("ae", "ldm"):
            fp32, bf16 = result[f"{stage}_steps_per_s"], result[f"{stage}_bf16_steps_per_s"]
            result[f"{stage}_bf16_over_fp32"] = round(bf16 / fp32, 3)
    return result


def cli_sample(name: str, class_name: str) -> dict:
    """The issue's sample command as its own process: wall and CPU seconds, start-up and exit included."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "core", "sample", f"builtin:{name}", "--class", class_name,
                   "--n", str(CLI_SHAPES), "--steps", str(FAST_STEPS), "--sampler", "dpmpp", "--seed", "1",
                   "--format", "npy", "--out", out]
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ,
                                                                                      "HF_HUB_OFFLINE": "1"})
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1]}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"command": " ".join(command[1:-1] + ["S"]), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "load_average_1min": round(load, 2), "cpus": os.cpu_count(), "target_wall_s": CLI_TARGET_S}


def benchmark(name: str, quick: bool) -> dict:
    """Every speed figure of one representation."""
    label, config, ae, denoiser, norm = model_for(name)
    report = {"model": label, "sampling": sampling_speed(config, ae, denoiser, norm, 100 if quick else 1000),
              "train": train_speed(config, ae, denoiser)}
    if not quick:
        report["compiled"] = compiled_speed(config, ae, denoiser, norm)
    if label.startswith("builtin:"):
        report["cli_sample"] = cli_sample(name, config.classes[0] if "chair" not in config.classes else "chair")
    return report


def compare_predictions(ae_steps: int = 100, ldm_steps: int = 300, n_samples: int = 32) -> dict:
    """Train a tiny chair + sofa run per prediction type; score its chair samples against test chairs."""
    from core.data import open_dataset
    from core.metrics.distances import pairwise_chamfer
    from core.metrics.distributions import mmd_cov, one_nn_accuracy
    from core.training import RunSpec, load_trained, train_run

    n_points = training_preset("tiny").n_points
    refs = torch.from_numpy(open_dataset(H5_TEST).subset(classes=["chair"]).points(n_points))[:n_samples]
    d_ref = pairwise_chamfer(refs, refs)
    scores = {}
    with tempfile.TemporaryDirectory() as folder:
        for prediction in PREDICTIONS:
            run = Path(folder) / prediction
            # class 0 of two: --cond class needs at least two classes
            spec = RunSpec(data=str(H5_TRAIN), representation="points", classes=["chair", "sofa"], cond="class",
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


def run(quick: bool = False, predictions: bool = False) -> dict:
    """Every figure as one dict (``python -m core bench`` calls this); ``quick`` times DDPM over 100 steps."""
    report = {"threads": torch.get_num_threads(), "scheduler_import": scheduler_import()}
    for name in REPRESENTATIONS:
        try:
            report[name] = benchmark(name, quick)
        except Exception as exc:  # one representation's failure (e.g. still being built) must not hide the rest
            report[name] = {"error": f"{type(exc).__name__}: {exc}"}
    if predictions:
        report["predictions"] = compare_predictions()
    return report


def main() -> None:
    """Print every figure as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="DDPM baseline with 100 steps, scaled to 1,000")
    parser.add_argument("--predictions", action="store_true", help="also train the ε-vs-v comparison (minutes)")
    args = parser.parse_args()
    print(json.dumps(run(args.quick, args.predictions), indent=2))


if __name__ == "__main__":
    main()
