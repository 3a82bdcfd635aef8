"""``python -m core complete MODEL PARTIAL``: fill in what a partial shape is missing."""
from __future__ import annotations

import argparse

from core.cli.edit_options import add_edit_options, edit_options, run_edit
from core.jobs import edit_job
from core.jobs.edit_inputs import Cut


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``complete`` command."""
    parser = subparsers.add_parser(
        "complete", help="complete a partial shape through a trained model",
        description="Sample N whole shapes that keep PARTIAL (a shape with a region missing) and fill in the "
                    "rest; written as 'sample' writes samples, lined up with PARTIAL in its coordinates.")
    parser.add_argument("run_dir", metavar="MODEL", help="run folder or builtin:NAME")
    parser.add_argument("partial", metavar="PARTIAL", help="partial shape file")
    parser.add_argument("--cut", metavar="AXIS>OFFSET",
                        help="the plane PARTIAL was cut with and the side removed, in PARTIAL's coordinates, e.g. "
                             "'x>0' (the part with x > 0 is missing) or 'z<-0.2'. The completion then places PARTIAL "
                             "as its whole shape (its mirror image in the cut giving the extent) and matches it on "
                             "the kept side; without it only coverage of PARTIAL is asked for")
    add_edit_options(parser, "number of completions (default 4)", 4)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run a CompleteJob."""
    cut = None if args.cut is None else Cut.parse(args.cut)
    return run_edit(edit_job("complete")(args.run_dir, args.partial, args.out, n=args.n, cut=cut, **edit_options(args)))
