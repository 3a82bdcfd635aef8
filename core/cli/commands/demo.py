"""``python -m core demo``: the main job until pretrained models exist — built-in shapes in every representation."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo", help="generate built-in shapes, convert them to every representation, render a contact sheet",
        description="Generate the built-in dataset, convert one shape per class to points, voxels and "
                    "Gaussian splats, write PLY/NPY/OBJ files and render them offscreen to a PNG contact sheet.")
    parser.add_argument("--out", default="latent3d-demo", help="output folder (default ./latent3d-demo)")
    parser.add_argument("--classes", type=int, default=None, metavar="N", help="only the first N classes")
    parser.add_argument("--size", type=int, default=256, metavar="PX", help="picture size in pixels (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the built-in dataset and sampling (default 0)")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """Run :class:`DemoJob` and print the files it wrote and how long each step took."""
    from core.cli.runner import run_in_terminal
    from core.jobs.demo import DemoJob

    result = run_in_terminal(DemoJob(args.out, classes=args.classes, image_size=args.size, seed=args.seed))
    for path in result["files"]:
        print(path)
    print(f"contact sheet: {result['sheet']}")
    for step, seconds in result["timings"].items():
        print(f"{step:<28}{seconds:7.2f} s")
    return 0
