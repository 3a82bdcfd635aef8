"""``python -m core datasets inspect PATH [--json] [--strict]``: what a dataset holds."""
from __future__ import annotations

import argparse
import json

from core.cli.options import add_key_option, add_strict_option
from core.cli.runner import run_in_terminal
from core.data.datasets import skipped_report
from core.jobs.inspect import InspectJob


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``datasets`` command group (``inspect``)."""
    parser = subparsers.add_parser("datasets", help="look at datasets", description="Look at datasets.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    inspect = actions.add_parser(
        "inspect", help="count shapes per class and split, sizes and bounds",
        description="Open a dataset (a file, a folder or 'builtin') and report what it holds.")
    inspect.add_argument("path", metavar="PATH", help="dataset file or folder, or builtin[:SEED]")
    inspect.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    add_key_option(inspect)
    add_strict_option(inspect)
    inspect.set_defaults(handler=run_inspect)


def run_inspect(args: argparse.Namespace) -> int:
    """Run :class:`InspectJob` with a progress bar; print JSON or a table."""
    summary = run_in_terminal(InspectJob(args.path, strict=args.strict, key=args.key), quiet=args.json)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def format_summary(summary: dict) -> str:
    """A readable report: totals, one row per class with its count in each split, then what was left out."""
    splits = list(summary["splits"])
    size_key = next(k for k in ("points_per_shape", "resolution", "gaussians_per_shape", "faces_per_shape")
                    if k in summary)
    size = summary[size_key]
    size_text = f"{size['min']}..{size['max']}" if isinstance(size, dict) else str(size)
    lines = [f"{summary['path']}: {summary['count']} {summary['representation']} shapes, "
             f"{len(summary['classes'])} classes",
             f"{size_key.replace('_', ' ')}: {size_text}",
             f"bounds: min {summary['bounds']['min']} max {summary['bounds']['max']}", ""]
    width = max(len("class"), *(len(c) for c in summary["classes"]))
    header = f"{'class':<{width}}" + "".join(f"{s:>8}" for s in splits) + f"{'total':>8}"
    lines += [header, "-" * len(header)]
    for name, total in summary["classes"].items():
        per_split = summary["class_splits"][name]
        lines.append(f"{name:<{width}}" + "".join(f"{per_split.get(s, 0):>8}" for s in splits) + f"{total:>8}")
    lines.append(f"{'total':<{width}}" + "".join(f"{summary['splits'][s]:>8}" for s in splits)
                 + f"{summary['count']:>8}")
    if summary.get("dropped"):
        lines += ["", f"dropped {len(summary['dropped'])} rows:"]
        lines += [f"  {d['source']} row {d['row']}: {d['reason']}" for d in summary["dropped"]]
    if summary.get("skipped"):
        lines += ["", skipped_report(summary["path"], summary["skipped"], summary["files"])]
    if summary.get("notes"):
        lines += ["", *summary["notes"]]
    return "\n".join(lines)
