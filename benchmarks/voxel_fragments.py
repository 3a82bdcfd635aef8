"""Where a voxel model's detached pieces come from: the measurements behind the README's ablation notes.

``recon``: the autoencoder alone (any run folder, also one whose stage 2 has not started): test shapes
encoded and decoded, their fragmentation and IoU beside the data's own, and how many cells the
reconstructions fill per cell of the data (a fatter reconstruction joins pieces without knowing the shape
better). This is the ceiling the denoiser works under. ``recon`` and ``midpoints`` also take a splat model
(its Gaussian centres' cells are the occupancy, as ``eval`` counts them).

``threshold``: the samples' and the autoencoder's reconstructions' fragmentation at several occupancy
thresholds on the decoder's logits. If the pieces were only a calibration matter (focal loss moves
the logits' zero), some threshold would join them without losing reconstruction IoU.

``decoder``: fine-tune the decoder alone on the denoiser's x0 estimates of noised training latents
(their error is the kind sampled latents carry), then sample again with the same seed. If the pieces
came from a decoder that only knows clean latents, this would join them.

``noise``: the denoiser's sampled latents beside encoded train latents (per-channel mean and std,
distance to the nearest train latent), and the decoder's fragmentation of train latents with Gaussian
noise of 0-1 latent std added. If the samples look like train latents by these statistics yet the
decoder breaks train latents at that noise, the decoder's tolerance is what to train
(``train --ae-latent-noise``).

``midpoints``: the autoencoder alone again: the decoded midpoints (z_a + z_b) / 2 of pairs of encoded
train shapes of one class. A sample is a latent between train latents too; an autoencoder whose
midpoints fall apart gives a denoiser no room for error (grid vs token latents, ``train --ae-latent``).

All sample 64 shapes per class with DPM-Solver++ (20 steps, guidance 2, seed 1), like the quality
table, and print one JSON object.

Run: ``python benchmarks/voxel_fragments.py builtin:voxels threshold --classes chair,table``,
``python benchmarks/voxel_fragments.py builtin:voxels decoder --steps 500``,
``python benchmarks/voxel_fragments.py builtin:voxels noise --classes chair``,
``python benchmarks/voxel_fragments.py RUN recon --classes chair,table,sofa`` or
``python benchmarks/voxel_fragments.py RUN midpoints --classes chair,table,sofa [--png SHEET.png]``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LATENT3D_SHARED_DATA", ROOT.parent / "shared" / "data"))
REFERENCE = SHARED_DATA / "modelnet10_pointclouds_1024"
#: sampler settings of the quality table
N, STEPS, SAMPLER, GUIDANCE, SEED = 64, 20, "dpmpp", 2.0, 1
#: logit thresholds tried (0 is p = 0.5, what the app and eval use)
THRESHOLDS = (0.0, -0.5, -1.0, -1.5)
#: fine-tuning: batch, learning rate, the least alpha_bar of the noised latents (noisier x0 estimates
#: are class means that no decoder can turn back into one shape) and the share of clean latents kept
#: so reconstructions stay sharp
BATCH, LR, MIN_ALPHA_BAR, CLEAN_SHARE = 16, 1e-4, 0.3, 0.25
#: latent noise levels tried, in units of the scaled latent's std (1 after the LDM scale factor)
NOISE_LEVELS = (0.0, 0.3, 0.5, 0.7, 1.0)
#: train shapes encoded per class for the latent statistics
TRAIN_LATENTS = 256
#: pairs drawn on the midpoint sheet (two to a row) and the edge of each tile in pixels
SHEET_PAIRS, SHEET_TILE = 6, 200


def sample_logits(run, class_name: str):
    """The model's decoder logits (N, R, R, R) for one class, as the quality table samples them."""
    import torch

    labels = torch.full((N,), run.classes.index(class_name))
    with torch.inference_mode():
        return run.pipeline()(N, labels, guidance=GUIDANCE, steps=STEPS, sampler=SAMPLER, seed=SEED)[:, 0]


def fragmentation(occupancy) -> dict[str, float]:
    from core.metrics.fragmentation import fragments

    return {k: round(v, 4) for k, v in fragments(occupancy).summary().items()}


def iou(pred, target) -> float:
    return round(float((pred & target).sum() / (pred | target).sum()), 4)


def test_inputs(representation_name: str, class_name: str, n: int, split: str = "test"):
    """The first n shapes of a class as the autoencoder's input (N, C, 32, 32, 32), made by the training loaders,
    and their occupancy (bool (N, 32, 32, 32); splats: the cells holding a Gaussian centre)."""
    from core.data import open_dataset
    from core.training.representations import representation

    adapter = representation(representation_name)
    subset = open_dataset(REFERENCE).subset(classes=[class_name], split=split)
    inputs = adapter.model_input(adapter.load(subset, 1024, 32)[:n])
    return inputs, (inputs[:, 0] > 0.5).numpy()


def occupancy(decoded):
    """Occupied cells of decoder outputs: channel 0 is the occupancy logit of voxels and of splat grids
    (logit 0 = probability 0.5, the threshold of the exported arrays)."""
    return (decoded[:, 0] > 0).numpy()


def load_autoencoder(model: str):
    """The EMA autoencoder of a run folder or built-in model, the step it was saved at and its representation."""
    from core.models import AutoencoderConfig, build_autoencoder
    from core.training.checkpoint import checkpoint_path, load_checkpoint
    from core.training.pretrained import resolve_run
    from core.training.run_config import read_run_config

    run_dir = resolve_run(model)
    config = read_run_config(run_dir)
    autoencoder = build_autoencoder(AutoencoderConfig.from_dict(config.autoencoder))
    checkpoint = load_checkpoint(checkpoint_path(run_dir, "ae"))
    checkpoint.load_weights(autoencoder, "ema")
    return autoencoder.eval(), checkpoint.manifest["step"], config.representation


def reconstruction(model: str, classes: list[str]) -> dict:
    """Fragmentation and IoU of the autoencoder's reconstructions of N test shapes per class, and the data's."""
    import torch

    autoencoder, step, representation_name = load_autoencoder(model)
    table: dict = {"autoencoder_step": step}
    for class_name in classes:
        inputs, data = test_inputs(representation_name, class_name, N)
        with torch.inference_mode():
            recon = occupancy(autoencoder.decode(autoencoder.encode(inputs)))
        table[class_name] = {"recon": fragmentation(recon), "recon_iou": iou(recon, data), "data": fragmentation(data),
                             "recon_cells_per_data_cell": round(float(recon.sum() / data.sum()), 3)}
    return table


def midpoints(model: str, classes: list[str], png: str | None = None) -> dict:
    """Fragmentation of the decoded midpoints of N pairs of train shapes per class, beside their reconstructions;
    ``png``: a sheet of the first class's first pairs (shape a, its reconstruction, the midpoint with shape b)."""
    import torch

    autoencoder, step, representation_name = load_autoencoder(model)
    table: dict = {"autoencoder_step": step}
    for class_name in classes:
        inputs, data = test_inputs(representation_name, class_name, 2 * N, split="train")
        with torch.inference_mode():
            latents = autoencoder.encode(inputs)
            recon = occupancy(autoencoder.decode(latents))
            middle = occupancy(autoencoder.decode((latents[:N] + latents[N:]) / 2))
        table[class_name] = {"recon": fragmentation(recon), "midpoints": fragmentation(middle)}
        if png and class_name == classes[0]:
            save_midpoint_sheet(png, data, recon, middle)
    return table


def save_midpoint_sheet(png: str, voxels, recon, middle) -> None:
    """SHEET_PAIRS rows of: train shape a, its reconstruction, the decoded midpoint of a and its partner b."""
    from core.render import contact_sheet, render_shape, save_png
    from core.shapes import VoxelGrid

    images, labels = [], []
    for i in range(SHEET_PAIRS):
        for name, grid in (("shape", voxels[i]), ("reconstruction", recon[i]), ("midpoint", middle[i])):
            images.append(render_shape(VoxelGrid(grid.astype(bool)), size=(SHEET_TILE, SHEET_TILE)))
            labels.append(f"{name} {i}")
    save_png(contact_sheet(images, labels, columns=6), png)


def threshold_sweep(run, classes: list[str]) -> dict:
    """Fragmentation of samples and reconstructions, and reconstruction IoU, per threshold."""
    import torch

    table = {}
    for class_name in classes:
        logits = sample_logits(run, class_name)
        inputs, voxels = test_inputs("voxels", class_name, N)
        with torch.inference_mode():
            recon = run.autoencoder.decode(run.autoencoder.encode(inputs))
        table[class_name] = {
            str(th): {"samples": fragmentation((logits > th).numpy()),
                      "samples_fill": round(float((logits > th).float().mean()), 4),
                      "recon": fragmentation((recon[:, 0] > th).numpy()),
                      "recon_iou": iou((recon[:, 0] > th).numpy(), voxels)}
            for th in THRESHOLDS}
        table[class_name]["data_fill"] = round(float(voxels.mean()), 4)
    return table


def x0_estimates(run, latents, labels, alphas, allowed, generator):
    """The denoiser's x0 estimate of each latent noised to a random allowed timestep (scaled latents in, out)."""
    import torch

    from core.diffusion.parameterization import data_prediction

    t = allowed[torch.randint(0, len(allowed), (len(latents),), generator=generator)]
    alpha_bar = alphas[t].view(-1, 1, 1, 1, 1)
    alpha, sigma = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
    noisy = alpha * latents + sigma * torch.randn(latents.shape, generator=generator)
    output = run.denoiser(noisy, t, labels)
    return data_prediction(run.config.schedule["prediction_type"], noisy, output, alpha, sigma)


def decoder_finetune(run, classes: list[str], steps: int) -> dict:
    """Samples' fragmentation before and after ``steps`` decoder updates on x0 estimates."""
    import numpy as np
    import torch

    from core.data import open_dataset
    from core.diffusion.schedulers import alphas_cumprod

    def measure() -> dict:
        return {c: fragmentation((sample_logits(run, c) > 0).numpy()) for c in classes}

    before = measure()
    ae, norm = run.autoencoder, run.latent_norm
    data = open_dataset(REFERENCE).subset(classes=run.classes, split="train")
    voxels = torch.from_numpy(data.voxels(resolution=32).astype(np.float32))[:, None]
    labels = torch.from_numpy(data.labels())
    alphas = alphas_cumprod(run.config.schedule).float()
    allowed = torch.nonzero(alphas >= MIN_ALPHA_BAR).flatten()
    decoder = [p for name, p in ae.named_parameters() if name.startswith("decoder")]
    for p in ae.parameters():
        p.requires_grad_(p in set(decoder))
    optimizer = torch.optim.AdamW(decoder, lr=LR)
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        i = torch.randint(0, len(voxels), (BATCH,), generator=generator)
        with torch.no_grad():
            clean = norm.normalize(ae.encode(voxels[i]))
            estimate = x0_estimates(run, clean, labels[i], alphas, allowed, generator)
            keep_clean = (torch.rand(BATCH, generator=generator) < CLEAN_SHARE).view(-1, 1, 1, 1, 1)
            inputs = norm.denormalize(torch.where(keep_clean, clean, estimate))
        loss, _ = ae.loss_fn(ae.decode(inputs), voxels[i])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    ae.eval()
    return {"steps": steps, "before": before, "after": measure()}


def latent_statistics(latents) -> dict:
    """Per-channel mean and std of scaled latents: grids (B, C, r, r, r) or tokens (B, K, C)."""
    per_channel = latents.movedim(-1, 1).flatten(2) if latents.dim() == 3 else latents.flatten(2)
    return {"channel_mean": [round(float(v), 3) for v in per_channel.mean((0, 2))],
            "channel_std": [round(float(v), 3) for v in per_channel.std((0, 2))]}


def median_nearest_distance(latents, others) -> float:
    """Median L2 distance from each latent to its nearest one in ``others``."""
    import torch

    return round(float(torch.cdist(latents.flatten(1), others.flatten(1)).min(1).values.median()), 2)


def noise_tolerance(run, classes: list[str]) -> dict:
    """Sampled vs train latents, and how the decoder's output breaks as train latents get noisier."""
    import numpy as np
    import torch

    from core.data import open_dataset

    pipeline = run.pipeline()
    table = {}
    for class_name in classes:
        sampled = {}
        labels = torch.full((N,), run.classes.index(class_name))
        with torch.inference_mode():
            pipeline(N, labels, guidance=GUIDANCE, steps=STEPS, sampler=SAMPLER, seed=SEED,
                     callback=lambda step: sampled.update(latents=step.latents), decode_previews=False)
            data = open_dataset(REFERENCE).subset(classes=[class_name], split="train")
            voxels = torch.from_numpy(data.voxels(resolution=32)[:TRAIN_LATENTS].astype(np.float32))[:, None]
            train = run.latent_norm.normalize(run.autoencoder.encode(voxels))
            generator = torch.Generator().manual_seed(SEED)
            decoded = {str(level): fragmentation((pipeline.decode(
                train[:N] + level * torch.randn(train[:N].shape, generator=generator))[:, 0] > 0).numpy())
                for level in NOISE_LEVELS}
        table[class_name] = {
            "sampled": latent_statistics(sampled["latents"]), "train": latent_statistics(train),
            "nearest_train_distance": {"sampled": median_nearest_distance(sampled["latents"], train),
                                       "train": median_nearest_distance(train[:N], train[N:])},
            "train_latents_with_noise": decoded}
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a voxel run folder or builtin:voxels")
    parser.add_argument("experiment", choices=("threshold", "decoder", "recon", "noise", "midpoints"))
    parser.add_argument("--classes", default="chair,table")
    parser.add_argument("--steps", type=int, default=500, help="decoder fine-tuning steps")
    parser.add_argument("--png", help="midpoints: also draw the first class's first pairs to this picture")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from core.training import load_trained

    classes = args.classes.split(",")
    if args.experiment == "recon":
        result = reconstruction(args.model, classes)
    elif args.experiment == "midpoints":
        result = midpoints(args.model, classes, args.png)
    elif args.experiment == "noise":
        result = noise_tolerance(load_trained(args.model), classes)
    elif args.experiment == "threshold":
        result = threshold_sweep(load_trained(args.model), classes)
    else:
        result = decoder_finetune(load_trained(args.model), classes, args.steps)
    print(json.dumps({"model": args.model, "experiment": args.experiment, **result}, indent=1))


if __name__ == "__main__":
    main()
