"""``python -m core eval``: MMD/COV/1-NNA (CD, EMD), JSD, IoU of samples against a reference dataset."""
from __future__ import annotations

import argparse
import json

from core.cli.options import add_key_option, add_strict_option, check_strict
from core.cli.runner import run_in_terminal
from core.errors import InputError
from core.io import atomic_write
from core.jobs.evaluate import ALL_SHAPES, DEFAULT_N_REF, DEFAULT_SPLIT, ORACLE_REPRESENTATIONS, EvalJob


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``eval`` command."""
    parser = subparsers.add_parser(
        "eval", help="score samples against a reference dataset (MMD, COV, 1-NNA, JSD)",
        description="Evaluate SAMPLES (.npy/.npz points (N,P,3), voxels (N,R,R,R) or splat grids (N,15,R,R,R); "
                    "a folder of PLY/PCD clouds, 3DGS PLY splats or OBJ/OFF/STL/PLY meshes; or a run folder or "
                    "builtin:NAME, which is sampled first) against --ref. Definitions: PointFlow (points), KAIST "
                    "CS492(D) (voxels). Splats and meshes are scored as points drawn on them. Voxels, splats and "
                    "meshes also get floaters (mean share of occupied cells off the largest 26-connected piece; "
                    "splat centres at their grid's resolution, PLY splats and meshes at 32^3) and one_piece (share of samples in one piece).")
    parser.add_argument("samples", metavar="SAMPLES", nargs="?", help="samples file/folder (not with --oracle)")
    parser.add_argument("--ref", required=True, help="reference dataset path")
    parser.add_argument("--split", help=f"reference split, or {ALL_SHAPES} (default: {DEFAULT_SPLIT} where the reference "
                                        f"has one, else all its shapes; the JSON's 'split' says which)")
    add_key_option(parser, "--ref")
    parser.add_argument("--class", dest="class_name", help="reference class (and the class sampled from a run)")
    parser.add_argument("--n", type=int, help="number of samples (oracle: random train shapes)")
    parser.add_argument("--n-ref", type=int, default=DEFAULT_N_REF,
                        help=f"at most this many reference shapes, a fixed random choice by --seed "
                             f"(default {DEFAULT_N_REF}; 0 keeps them all)")
    parser.add_argument("--metrics", help="comma-separated: cd,emd,jsd (points) or cd,iou,jsd (voxels)")
    parser.add_argument("--points", type=int, help="points per cloud (default: the samples' count)")
    parser.add_argument("--normalisation", choices=("bbox", "sphere", "none"), default="bbox",
                        help="per-shape normalisation before point metrics (default bbox, LION's)")
    parser.add_argument("--oracle", action="store_true", help="score random train shapes of the class instead")
    parser.add_argument("--repr", dest="representation", choices=ORACLE_REPRESENTATIONS,
                        help="with --oracle: the train shapes as points, voxels or splats, made as training makes "
                             "them (default: the data's own)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classifier", help="classifier folder: also report class accuracy of the samples")
    parser.add_argument("--json", metavar="OUT", help="write the JSON here instead of stdout")
    add_strict_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run an EvalJob with a progress bar; print or write its JSON."""
    if args.oracle and args.samples is not None:
        raise InputError(args.samples, "--oracle takes no SAMPLES (it uses train shapes of --ref)")
    check_strict(args, args.ref, args.key)
    metrics = None if args.metrics is None else tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    job = EvalJob(args.samples, args.ref, split=args.split, class_name=args.class_name, n=args.n, metrics=metrics,
                  points=args.points, normalisation=args.normalisation, oracle=args.oracle, seed=args.seed,
                  classifier=args.classifier, n_ref=args.n_ref or None,
                  representation=args.representation, key=args.key)
    result = run_in_terminal(job)
    text = json.dumps(result.to_json(), indent=2)
    if args.json:
        with atomic_write(args.json) as tmp:
            tmp.write_text(text + "\n")
    else:
        print(text)
    return 0
