"""How a model's train latents fill their space, and how long each beta schedule lets their main directions show.

A denoiser sees the normalised latent (the run's own latent normalisation) plus noise. Where the variance sits
in a few principal directions, those directions stay visible through far more noise than an average element
does, so the steps that decide which kind of shape a sample becomes crowd at the end of the schedule. This
prints one JSON object: the mean per-element variance, the variance of the leading principal components and the
share of the variance they hold, and for each beta schedule (``train --beta-schedule``) the last training step
at which each leading component (and an element of variance 1) is still above the noise (ᾱ·var > 1 − ᾱ).

Run: ``python benchmarks/latent_spectrum.py builtin:points [--classes chair,sofa,…] [--components 5]``
(every train shape of the classes; default: the model's own classes).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LATENT3D_SHARED_DATA", ROOT.parent / "shared" / "data"))
#: encoder batch (memory, not results)
BATCH = 128
#: the cumulative variance shares reported, as the README quotes them
SHARES = (0.5, 0.9, 0.99)


def train_latents(model: str, classes: list[str] | None):
    """The normalised latents of every train shape of ``classes``, flattened (N, D), in float64."""
    import torch

    from core.data import open_dataset
    from core.training import load_trained

    run = load_trained(model)
    data = Path(run.config.data["path"])  # a path relative to the repository, as the shipped manifests write it
    data = data if data.exists() else SHARED_DATA / data.name
    subset = open_dataset(data).subset(classes=classes or run.classes, split="train")
    stored = run.representation.load(subset, run.config.data["n_points"], run.config.data["resolution"]).float()
    with torch.no_grad():
        inputs = (run.representation.model_input(stored[i:i + BATCH]) for i in range(0, len(stored), BATCH))
        latents = [run.latent_norm.normalize(run.autoencoder.encode(x)).flatten(1) for x in inputs]
    return torch.cat(latents).double(), run.config.prediction


def last_visible_step(variance: float, alphas_cumprod) -> int:
    """How many of the schedule's steps keep a direction of ``variance`` above the noise (ᾱ·var > 1 − ᾱ)."""
    return int((alphas_cumprod * variance > 1 - alphas_cumprod).sum())


def spectrum(latents, prediction: str, components: int) -> dict:
    """Per-element variance, the leading principal components and each schedule's visible steps."""
    import torch

    from core.choices import BETA_SCHEDULES
    from core.diffusion import noise_schedule_config
    from core.diffusion.schedulers import alphas_cumprod

    centred = latents - latents.mean(0)
    eigenvalues = torch.linalg.eigvalsh(centred.T @ centred / (len(centred) - 1)).flip(0).clamp(min=0)
    cumulative = eigenvalues.cumsum(0) / eigenvalues.sum()
    leading = eigenvalues[:components].tolist()
    schedules = {}
    for schedule in BETA_SCHEDULES:
        alphas = alphas_cumprod(noise_schedule_config(prediction, beta_schedule=schedule))
        schedules[schedule] = {"components": [last_visible_step(v, alphas) for v in leading],
                               "unit_element": last_visible_step(1.0, alphas)}
    return {"shapes": len(latents), "dims": latents.shape[1],
            "mean_element_variance": round(float(latents.var(0).mean()), 4),
            "component_variance": [round(v, 3) for v in leading],
            "share_of_leading": round(float(cumulative[components - 1]), 4),
            "dims_for_share": {f"{share:g}": int((cumulative < share).sum()) + 1 for share in SHARES},
            "steps_above_noise": schedules}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="builtin:NAME or a run folder")
    parser.add_argument("--classes", help="comma-separated (default: the model's own)")
    parser.add_argument("--components", type=int, default=5, help="leading principal components reported")
    args = parser.parse_args()
    classes = [c for c in args.classes.split(",") if c] if args.classes else None
    latents, prediction = train_latents(args.model, classes)
    json.dump({"model": args.model, **spectrum(latents, prediction, args.components)}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
