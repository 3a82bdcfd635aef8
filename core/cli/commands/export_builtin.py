"""``python -m core export-builtin RUN --name NAME``: ship a trained run as the built-in model ``builtin:NAME``."""
from __future__ import annotations

import argparse

from core.choices import SAMPLERS
from core.cli.runner import run_in_terminal
from core.jobs.export_builtin import WEIGHT_DTYPES, ExportBuiltinJob


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export-builtin`` command."""
    parser = subparsers.add_parser(
        "export-builtin", help="package a trained run as a built-in model (resources/pretrained/NAME)",
        description="Copy a run's config and EMA weights (float16 by default) into resources/pretrained/NAME, "
                    "check the export samples like the run, and update manifest.json and README.md there.")
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--name", required=True, help="model name: sample it as builtin:NAME")
    parser.add_argument("--dtype", choices=WEIGHT_DTYPES, default="float16",
                        help="stored weight type (int8: weight matrices as int8 with per-row scales, a quarter of "
                             "float32; int6 / int4: 6- / 4-bit groups of 32 weights with a scale each, about a fifth / a "
                             "seventh; all read back as float32)")
    parser.add_argument("--ae-dtype", choices=WEIGHT_DTYPES, default=None,
                        help="the autoencoder's stored weight type, where it should differ from --dtype (a voxel "
                             "decoder in int4 leaves more chairs in pieces)")
    parser.add_argument("--dest", default=None, help="pretrained folder (default: resources/pretrained)")
    parser.add_argument("--command", dest="train_command", default=None,
                        help="the exact training command, for the README (default: rebuilt from config.json)")
    parser.add_argument("--hardware", default=None, help="where it trained (default: this machine's CPU)")
    parser.add_argument("--guidance", type=float, default=None,
                        help="the model's default guidance, the one its quality figures are measured at "
                             "(default: keep the manifest's)")
    parser.add_argument("--sampler", choices=SAMPLERS, default=None,
                        help="the model's default sampler, the one its quality figures are measured with "
                             "(default: keep the manifest's)")
    parser.add_argument("--occupancy-logit", type=float, default=None,
                        help="voxel models: the decoder logit above which a cell is occupied, stored in the model's "
                             "config.json (default: keep the run's, else 0 = probability 0.5)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run an ExportBuiltinJob and print where the model went."""
    result = run_in_terminal(ExportBuiltinJob(args.run_dir, args.name, args.dest, args.dtype, args.train_command,
                                              args.hardware, args.guidance, args.ae_dtype, args.sampler,
                                              args.occupancy_logit))
    entry = result["entry"]
    print(f"builtin:{entry['name']} -> {result['folder']} ({entry['bytes'] / 1e6:.2f} MB; "
          f"all built-in models {result['total_bytes'] / 1e6:.2f} MB)")
    return 0
