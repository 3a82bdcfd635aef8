"""``python -m core bench``: every benchmark in ``benchmarks/`` as one JSON object.

Each ``benchmarks/bench_NAME.py`` defines ``run(quick: bool) -> dict`` and reports its figures as
ratios against a baseline measured in the same run, so numbers from a loaded machine still compare.
The folder sits beside the ``core`` package in a checkout; benchmarks are not part of an install.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
from pathlib import Path

from core.errors import InputError
from core.io import atomic_write

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` command."""
    parser = subparsers.add_parser("bench", help="speed figures as ratios against in-run baselines (JSON)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a fast look")
    parser.add_argument("--only", default=None, help="comma-separated benchmark names, e.g. data,metrics")
    parser.add_argument("--json", default=None, metavar="OUT", help="write the JSON here instead of stdout")
    parser.set_defaults(handler=_bench)


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"latent3d_bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench(args: argparse.Namespace) -> int:
    files = sorted(BENCHMARKS.glob("bench_*.py"))
    if not files:
        raise InputError(BENCHMARKS, "no benchmarks found (they ship with a source checkout, not an install)")
    wanted = None if args.only is None else set(args.only.split(","))
    available = {f.stem.removeprefix("bench_") for f in files}
    if wanted is not None and not wanted <= available:
        raise InputError(None, f"unknown benchmark(s) {sorted(wanted - available)}; available: {sorted(available)}")
    import torch

    report = {"machine": {"cpus": torch.get_num_threads(), "python": platform.python_version(),
                          "torch": torch.__version__}, "quick": args.quick, "benchmarks": {}}
    for path in files:
        name = path.stem.removeprefix("bench_")
        if wanted is not None and name not in wanted:
            continue
        print(f"bench {name} …", file=sys.stderr)
        start = time.perf_counter()
        report["benchmarks"][name] = _load(path).run(quick=args.quick)
        report["benchmarks"][name]["bench_seconds"] = round(time.perf_counter() - start, 2)
    text = json.dumps(report, indent=2)
    if args.json:

        with atomic_write(args.json) as tmp:
            Path(tmp).write_text(text + "\n")
    else:
        print(text)
    return 0
