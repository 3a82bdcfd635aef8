"""``python -m core interpolate MODEL A B``: shapes from A to B through a trained model."""
from __future__ import annotations

import argparse

from core.choices import DEFAULT_INTERPOLATION_PATH, INTERPOLATION_PATHS
from core.cli.edit_options import add_edit_options, edit_options, run_edit
from core.jobs import edit_job


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``interpolate`` command."""
    parser = subparsers.add_parser(
        "interpolate", help="interpolate between two shapes through a trained model",
        description="Write K shapes from A to B (any shape files; the first and last are A and B as the model "
                    "reconstructs them) into --out, as 'sample' writes samples, in the inputs' coordinates.")
    parser.add_argument("run_dir", metavar="MODEL", help="run folder or builtin:NAME")
    parser.add_argument("a", metavar="A", help="first shape file")
    parser.add_argument("b", metavar="B", help="last shape file")
    parser.add_argument("--path", choices=INTERPOLATION_PATHS, default=DEFAULT_INTERPOLATION_PATH,
                        help="latent: blend the encoded latents (default); noise: DDIM-invert both to noise, "
                             "slerp, sample back")
    add_edit_options(parser, "number of shapes K, ends included (default 8)", 8)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run an InterpolateJob."""
    return run_edit(edit_job("interpolate")(args.run_dir, args.a, args.b, args.out, n=args.n, path=args.path,
                                            **edit_options(args)))
