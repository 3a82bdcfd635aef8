"""``python -m core train``: train a two-stage latent diffusion run (or ``--resume`` one)."""
from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

from core.choices import (AUTOENCODER_KINDS, BETA_SCHEDULES, CONDITIONINGS, DEFAULT_AUTOENCODER, DEFAULT_CONDITIONING,
                          DEFAULT_PREDICTION, DEFAULT_PRESET, DEFAULT_REPRESENTATION, DENOISER_PATCHES,
                          GRID_RESOLUTIONS, LATENT_LAYOUTS, LATENT_NORMS, MODEL_REPRESENTATIONS, PREDICTIONS, PRESETS,
                          VOXEL_LOSSES)
from core.cli.options import add_key_option, add_strict_option, check_strict
from core.cli.runner import Interrupted, run_in_terminal
from core.errors import InputError
from core.jobs.train import TrainJob
from core.training.spec import ResumeSpec, RunSpec


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` command."""
    parser = subparsers.add_parser(
        "train", help="train an autoencoder then a latent denoiser",
        description="Train stage 1 (autoencoder) then stage 2 (latent denoiser) into RUN_DIR. Works under "
                    "`torchrun --nproc_per_node N -m core train …` (DDP, data sharded per rank).")
    parser.add_argument("--data", help="dataset path (file, folder or builtin); with --resume only where the "
                                       "run's data has moved to")
    add_key_option(parser, "--data")
    parser.add_argument("--classes", help="comma-separated class names (default: all)")
    parser.add_argument("--repr", dest="representation", choices=MODEL_REPRESENTATIONS,
                        default=DEFAULT_REPRESENTATION)
    parser.add_argument("--ae", dest="ae_kind", choices=AUTOENCODER_KINDS, default=DEFAULT_AUTOENCODER)
    parser.add_argument("--cond", choices=CONDITIONINGS, default=DEFAULT_CONDITIONING)
    parser.add_argument("--preset", choices=PRESETS, default=DEFAULT_PRESET)
    parser.add_argument("--ae-steps", type=int, help="stage-1 optimiser steps (default: the preset's; with --resume "
                                                     "a new total, at least the steps already taken)")
    parser.add_argument("--ldm-steps", type=int, help="stage-2 optimiser steps (default: the preset's; with --resume "
                                                      "a new total, e.g. to train a finished run longer)")
    parser.add_argument("--res", dest="resolution", type=int, choices=GRID_RESOLUTIONS, default=32,
                        help="grid resolution of voxels and splats")
    parser.add_argument("--points", dest="n_points", type=int, help="points per shape (default: the preset's)")
    parser.add_argument("--prediction", choices=PREDICTIONS, default=None,
                        help="what the denoiser predicts: noise (epsilon), velocity (v), or flow matching's velocity "
                             "u = noise - shape on its straight path, which brings that path as its schedule (flow)")
    parser.add_argument("--max-shapes", type=int, help="train on at most N shapes (a fixed random choice; quick tries)")
    parser.add_argument("--batch-size", type=int, help="per-process batch size of both stages")
    parser.add_argument("--lr", type=float, help="peak learning rate of both stages")
    parser.add_argument("--denoiser-width", type=int,
                        help="the denoiser's base width (default: the preset's: small UNet 48, small DiT 128)")
    parser.add_argument("--denoiser-depth", type=int,
                        help="the denoiser's depth: DiT blocks, or a UNet's residual blocks per level "
                             "(default: the preset's: small DiT 4, small UNet 1)")
    parser.add_argument("--denoiser-dropout", type=float, metavar="P",
                        help="the DiT's residual dropout in training, against fitting the few train latents too "
                             "closely (default 0: off; token latents only)")
    parser.add_argument("--denoiser-patch", type=int, choices=DENOISER_PATCHES,
                        help="space-to-depth factor of a grid latent's UNet (default: the preset's; small: 2)")
    parser.add_argument("--ae-latent-noise", type=float, metavar="S",
                        help="stage 1 decodes latents with noise of up to S times their std added, so the decoder "
                             "tolerates a denoiser's small errors (default 0: off)")
    parser.add_argument("--ae-latent", choices=LATENT_LAYOUTS,
                        help="voxels and splats: the latent as an 8³ grid (default; a UNet denoises it) or as 32 "
                             "tokens like the point latent (a DiT denoises it); with --ae-from, the source's layout "
                             "(builtin:voxels and builtin:splats: tokens)")
    parser.add_argument("--ae-loss", choices=VOXEL_LOSSES,
                        help="voxels: the autoencoder's loss, per-cell focal (default), bce, or focal plus a whole-shape "
                             "overlap term: soft Dice (focal_dice) or Dice and clDice's skeleton overlap (focal_cldice), "
                             "which a broken thin part costs")
    parser.add_argument("--min-snr", type=float, metavar="G", dest="min_snr_gamma",
                        help="weight stage 2's loss by Min-SNR-γ (Hang et al. 2023; their γ is 5): the x0 error of "
                             "each step counts min(SNR, γ) times (default: plain MSE)")
    parser.add_argument("--zero-terminal-snr", action="store_true",
                        help="rescale stage 2's betas so its last step is pure noise, as sampling starts (Lin et al. "
                             "2024; needs --prediction v)")
    parser.add_argument("--latent-norm", choices=LATENT_NORMS,
                        help="how stage 2 brings latents to unit scale: one factor for all (global, the default; "
                             "LDM's) or each element shifted by its training mean and divided by its std (element; "
                             "EDM2's per-channel normalisation, for latents whose elements differ)")
    parser.add_argument("--beta-schedule", choices=BETA_SCHEDULES,
                        help="stage 2's betas: LDM's scaled_linear (the default), DDPM's linear (1e-4 to 0.02), "
                             "which spends more steps at high noise, or the cosine squaredcos_cap_v2 (Nichol & "
                             "Dhariwal 2021), which keeps more of the latent through the middle steps")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast (faster on CPUs with AVX512-BF16)")
    parser.add_argument("--grad-checkpointing", action="store_true", help="recompute activations to save memory")
    parser.add_argument("--out", required=True, help="run folder")
    parser.add_argument("--ae-from", metavar="RUN_DIR",
                        help="start from that run's trained autoencoder (same representation and sizes), "
                             "skipping stage 1")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last checkpoints (its config.json sets the rest; "
                             "--data, --ae-steps, --ldm-steps change it). SIGINT/SIGTERM/SIGHUP during training "
                             "finish the step, save a checkpoint and exit 128+signal; a second one exits at once")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    add_strict_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Build the job from the options and run it with a progress bar."""
    if args.ae_from is not None and args.resume:  # the specs' own checks (TrainJob runs them) cover the rest
        raise InputError("--ae-from", "starts a new run from a trained autoencoder: it cannot be combined with "
                                      "--resume")
    check_strict(args, args.data, args.key)
    if args.resume:
        spec = ResumeSpec(data=args.data, ae_steps=args.ae_steps, ldm_steps=args.ldm_steps)
    elif args.data is None:
        raise InputError("--data", "a dataset is needed to start a run (or pass --resume)")
    else:
        classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
        spec = RunSpec(data=args.data, representation=args.representation, classes=classes, ae_kind=args.ae_kind,
                       cond=args.cond, preset=args.preset, ae_steps=args.ae_steps, ldm_steps=args.ldm_steps,
                       resolution=args.resolution, n_points=args.n_points,
                       prediction=args.prediction or DEFAULT_PREDICTION, batch_size=args.batch_size, lr=args.lr,
                       max_shapes=args.max_shapes, seed=args.seed, bf16=args.bf16,
                       gradient_checkpointing=args.grad_checkpointing, ae_from=args.ae_from, key=args.key,
                       denoiser_width=args.denoiser_width, denoiser_depth=args.denoiser_depth,
                       denoiser_patch=args.denoiser_patch, denoiser_dropout=args.denoiser_dropout,
                       ae_latent_noise=args.ae_latent_noise, ae_latent=args.ae_latent, ae_loss=args.ae_loss,
                       min_snr_gamma=args.min_snr_gamma, zero_terminal_snr=args.zero_terminal_snr,
                       latent_norm=args.latent_norm, beta_schedule=args.beta_schedule)
    try:
        result = run_in_terminal(TrainJob(args.out, spec, args.device), interrupted_hint=resume_hint(args.out))
    except Interrupted as stop:
        if int(os.environ.get("RANK", "0")) > 0:  # under torchrun rank 0 speaks for every rank
            raise Interrupted("", stop.signum) from None
        raise
    print(result.run_dir)
    return 0


def resume_hint(run_dir: str) -> str:
    """How to continue an interrupted run: the same launcher (``torchrun`` with as many processes) and ``--resume``."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    launcher = f"torchrun --nproc_per_node {world_size} -m core" if world_size > 1 else "python -m core"
    return f"resume with: {launcher} train --out {shlex.quote(str(Path(run_dir).absolute()))} --resume"
