"""``python -m core convert IN --to {points,voxels,splats,mesh} --out OUT``: change a shape's representation."""
from __future__ import annotations

import argparse

from core.choices import DEFAULT_MESH_METHOD, MESH_METHODS
from core.cli.options import add_strict_option, check_strict
from core.cli.runner import run_in_terminal
from core.jobs.convert import NORMALIZATIONS, ConvertJob


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``convert`` command."""
    parser = subparsers.add_parser(
        "convert", help="convert a shape file or a dataset to points, voxels, splats or a mesh",
        description="Convert a shape file (OUT is a file; its suffix picks the format) or a dataset "
                    "(a folder, an .h5 or batched array file, or 'builtin'; OUT is a folder that gets "
                    "CLASS/SPLIT/NAME.{ply,npy,obj}, or CLASS/NAME for shapes without a split: 'datasets inspect "
                    "OUT' reads back the same classes, splits and counts). Splats converted to splats are written "
                    "back bit for bit.")
    parser.add_argument("source", metavar="IN", help="shape file, dataset file or folder, or builtin[:SEED]")
    parser.add_argument("--to", dest="target", required=True, choices=("points", "voxels", "splats", "mesh"))
    parser.add_argument("--out", required=True, metavar="OUT", help="output file (one shape) or folder (dataset)")
    parser.add_argument("--points", type=int, default=2048, metavar="N",
                        help="points sampled (and splats made) per shape (default 2048)")
    parser.add_argument("--res", type=int, default=32, metavar="R", help="voxel grid resolution (default 32)")
    parser.add_argument("--filled", action="store_true", help="fill the inside of voxelised closed surfaces")
    parser.add_argument("--seed", type=int, default=0, help="random seed of surface sampling (default 0)")
    parser.add_argument("--normalize", choices=tuple(NORMALIZATIONS), default="none",
                        help="scale each converted shape: none keeps its coordinates (default none), unit_sphere "
                             "centres it with its farthest point at 1, unit_cube centres it with its longest side 1 "
                             "(in [-0.5, 0.5]); voxel grids are always fitted into their grid")
    parser.add_argument("--mesh-method", choices=MESH_METHODS, default=DEFAULT_MESH_METHOD,
                        help="how --to mesh surfaces points and splats: poisson (screened Poisson, follows the "
                             "points, may be open; default) or grid (marching cubes of the filled --res grid, "
                             "coarse but closed); voxels always use marching cubes")
    parser.add_argument("--classes", metavar="A,B", help="convert only these classes of a dataset (comma-separated)")
    add_strict_option(parser)
    parser.set_defaults(handler=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    """Run :class:`ConvertJob` with a progress bar and print where the output went."""
    check_strict(args, args.source)
    job = ConvertJob(args.source, args.target, args.out, points=args.points, resolution=args.res,
                     filled=args.filled, seed=args.seed, normalize=args.normalize, classes=args.classes,
                     mesh_method=args.mesh_method)
    result = run_in_terminal(job)
    if "classes" not in result:
        print(result["outputs"][0])
    else:
        splits = ", ".join(f"{name} {n}" for name, n in sorted(result["splits"].items()))
        print(f"{args.out}: {result['count']} shapes, {len(result['classes'])} classes (splits: {splits})")
    return 0
