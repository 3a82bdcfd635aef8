"""``python -m core vary MODEL SHAPE --strength S``: SDEdit-style variations of a shape."""
from __future__ import annotations

import argparse

from core.cli.edit_options import add_edit_options, edit_options, run_edit
from core.jobs import edit_job


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``vary`` command."""
    parser = subparsers.add_parser(
        "vary", help="variations of a shape through a trained model",
        description="Encode SHAPE, noise it to --strength of the schedule and denoise N times (SDEdit); near 0 "
                    "gives the reconstruction, 1 a fresh sample. Written as 'sample' writes samples, in SHAPE's "
                    "coordinates.")
    parser.add_argument("run_dir", metavar="MODEL", help="run folder or builtin:NAME")
    parser.add_argument("shape", metavar="SHAPE", help="shape file")
    parser.add_argument("--strength", type=float, required=True, help="noise level in (0, 1]")
    add_edit_options(parser, "number of variations (default 4)", 4)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run a VaryJob."""
    return run_edit(edit_job("vary")(args.run_dir, args.shape, args.strength, args.out, n=args.n, **edit_options(args)))
