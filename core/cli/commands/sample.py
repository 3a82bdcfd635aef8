"""``python -m core sample``: draw shapes from a trained run."""
from __future__ import annotations

import argparse

from core.choices import DEFAULT_GUIDANCE, DEFAULT_SAMPLE_STEPS, DEFAULT_SAMPLER, SAMPLERS
from core.cli.runner import run_in_terminal
from core.jobs.sample import FORMATS, SampleJob


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sample`` command."""
    parser = subparsers.add_parser("sample", help="sample shapes from a trained run",
                                   description="Sample N shapes from RUN_DIR into --out (NPY + PLY/OBJ/GLB).")
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--n", type=int, default=4, help="number of shapes")
    condition = parser.add_mutually_exclusive_group()
    condition.add_argument("--class", dest="class_name", help="class to sample (class-conditioned runs)")
    condition.add_argument("--prompt", help="text prompt (text-conditioned runs)")
    parser.add_argument("--guidance", type=float, default=None,
                        help="classifier-free guidance weight w (default: a built-in model's own, from its "
                             f"manifest; {DEFAULT_GUIDANCE:g} for a run)")
    parser.add_argument("--guidance-interval", type=noise_levels, default=None, metavar="LO,HI",
                        help="guide only the steps whose noise level sigma = sqrt((1-abar)/abar) lies in (LO, HI] "
                             "(Kynkaanniemi et al. 2024); the others sample plainly conditioned (default: every step; "
                             "20 steps of the runs' schedule have sigma 14.6 ... 0.22)")
    parser.add_argument("--steps", type=int, default=DEFAULT_SAMPLE_STEPS)
    parser.add_argument("--sampler", choices=SAMPLERS, default=None,
                        help=f"default: a built-in model's own, from its manifest; {DEFAULT_SAMPLER} for a run "
                             "(dpmpp_sde adds fresh noise each step: fewer voxel and splat samples in pieces)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", dest="fmt", choices=FORMATS,
                        help="per-shape files besides samples.npy, for every representation (default: ply for points "
                             "and splats, obj for voxels); obj and glb are meshes: voxels by marching cubes, points "
                             "and splats through a filled 32^3 grid")
    parser.add_argument("--keep-largest-piece", action="store_true",
                        help="voxels and splats: empty every cell outside each sample's largest 26-connected piece "
                             "before writing (off by default: it hides the floaters eval measures)")
    parser.add_argument("--occupancy-logit", type=float, default=None,
                        help="voxels: a cell is occupied where the decoder's logit exceeds this (default: the model's "
                             "own, config.json's occupancy_logit, else 0 = probability 0.5)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--out", required=True, help="output folder")
    parser.set_defaults(handler=run)


def noise_levels(text: str) -> tuple[float, float]:
    """``LO,HI`` as two floats (their order is checked by the job, which names the option)."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"need two numbers LO,HI, got {text!r}") from None
    return low, high


def run(args: argparse.Namespace) -> int:
    """Run a SampleJob with a progress bar and print the written paths."""
    job = SampleJob(args.run_dir, args.n, args.out, class_name=args.class_name, prompt=args.prompt,
                    guidance=args.guidance, steps=args.steps, sampler=args.sampler, seed=args.seed, fmt=args.fmt,
                    device=args.device, previews=False,  # a terminal shows progress, not shapes
                    keep_largest_piece=args.keep_largest_piece, occupancy_logit=args.occupancy_logit,
                    guidance_interval=args.guidance_interval)
    result = run_in_terminal(job)
    print("\n".join(result.paths))
    return 0
