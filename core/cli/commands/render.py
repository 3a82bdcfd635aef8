"""``python -m core render SHAPES --out PNG [--size WxH] [--color …] [--grid]``: shapes to a picture."""
from __future__ import annotations

import argparse

from core.cli.runner import run_in_terminal
from core.jobs.render import COLORS, DEFAULT_COLUMNS, DEFAULT_MAX_SHAPES, DEFAULT_SIZE, UP_AXES, RenderJob


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``render`` command."""
    parser = subparsers.add_parser(
        "render", help="draw shape files, arrays or samples folders to a PNG picture or contact sheet",
        description="Draw shapes offscreen with the renderer of the app and the demo: one shape to a picture, or "
                    "with --grid many to a contact sheet captioned with their names. SHAPES are shape files (PLY "
                    "points, meshes or 3DGS splats, PCD, OBJ, OFF, STL, GLB/glTF), NumPy arrays (points, voxel "
                    "grids, the (N, 15, R, R, R) splat grids 'sample' writes), HDF5 files, dataset or samples "
                    "folders, or 'builtin'.")
    parser.add_argument("shapes", nargs="+", metavar="SHAPES", help="shape files, arrays, folders or builtin[:SEED]")
    parser.add_argument("--out", required=True, metavar="PNG", help="picture to write (.png)")
    parser.add_argument("--size", type=picture_size, default=DEFAULT_SIZE, metavar="WxH",
                        help=f"size of the picture, or of each tile with --grid (default "
                             f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}; one number for a square)")
    parser.add_argument("--color", choices=tuple(COLORS), default="height",
                        help="colour points, voxels and colourless splats by height (default), by their normals, or "
                             "draw the shape's own colours (rgb; clay where it has none)")
    parser.add_argument("--grid", action="store_true", help="a contact sheet of every shape (else exactly one shape)")
    parser.add_argument("--n", type=int, default=DEFAULT_MAX_SHAPES,
                        help=f"shapes drawn at most with --grid (default {DEFAULT_MAX_SHAPES})")
    parser.add_argument("--columns", type=int, default=DEFAULT_COLUMNS,
                        help=f"tiles per row with --grid (default {DEFAULT_COLUMNS})")
    parser.add_argument("--up", choices=UP_AXES, default="z",
                        help="the shapes' up axis: z for ModelNet and the built-in models (default), y for the "
                             "built-in procedural dataset")
    parser.set_defaults(handler=run_render)


def picture_size(text: str) -> tuple[int, int]:
    """``WxH`` (or one number for a square) as positive (width, height); anything else is an argparse error."""
    parts = text.lower().split("x")
    if len(parts) not in (1, 2) or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"expected WxH in pixels such as 320x240, got {text!r}")
    return int(parts[0]), int(parts[-1])


def run_render(args: argparse.Namespace) -> int:
    """Run :class:`RenderJob` with a progress bar and print the picture's path."""
    job = RenderJob(args.shapes, args.out, size=args.size, color=args.color, grid=args.grid, n=args.n,
                    columns=args.columns, up=args.up)
    result = run_in_terminal(job)
    print(result["out"])
    return 0
