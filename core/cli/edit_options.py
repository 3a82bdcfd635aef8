"""Options the editing commands (``interpolate``, ``vary``, ``complete``) share with ``sample``, worded once."""
from __future__ import annotations

import argparse
from typing import Any

from core.cli.runner import run_in_terminal
from core.jobs.sample import FORMATS


def add_edit_options(parser: argparse.ArgumentParser, n_help: str, n_default: int) -> None:
    """``--n``, the condition, guidance, steps, seed, format, device and ``--out``, as ``sample`` has them."""
    parser.add_argument("--n", type=int, default=n_default, help=n_help)
    condition = parser.add_mutually_exclusive_group()
    condition.add_argument("--class", dest="class_name", help="class to condition on (class-conditioned runs)")
    condition.add_argument("--prompt", help="text prompt (text-conditioned runs)")
    parser.add_argument("--guidance", type=float, default=None,
                        help="classifier-free guidance weight w (default: a built-in model's own; 3 for a run)")
    parser.add_argument("--steps", type=int, default=20, help="DDIM steps of a full denoising run (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", dest="fmt", choices=FORMATS,
                        help="per-shape files besides samples.npy (default: ply for points and splats, obj for voxels)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--out", required=True, help="output folder")


def edit_options(args: argparse.Namespace) -> dict[str, Any]:
    """The shared options as keyword arguments of the editing jobs."""
    return {"class_name": args.class_name, "prompt": args.prompt, "guidance": args.guidance, "steps": args.steps,
            "seed": args.seed, "fmt": args.fmt, "device": args.device}


def run_edit(job) -> int:
    """Run an editing job with a progress bar and print the written paths."""
    result = run_in_terminal(job)
    print("\n".join(result["paths"]))
    return 0
