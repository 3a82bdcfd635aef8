"""``python -m core train-classifier``: the PointNet classifier that ``eval --classifier`` uses."""
from __future__ import annotations

import argparse
import json

from core.cli.runner import run_in_terminal
from core.jobs.train_classifier import TrainClassifierJob


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train-classifier`` command."""
    parser = subparsers.add_parser("train-classifier", help="train the point-cloud classifier for eval",
                                   description="Train a PointNet classifier on --data's train split; report "
                                               "its test accuracy; save safetensors + JSON into --out.")
    parser.add_argument("--data", required=True, help="dataset with train and test splits")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--points", type=int, default=256, help="points per cloud")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the job with a progress bar; print the figures as JSON."""


    job = TrainClassifierJob(args.data, args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                             seed=args.seed, n_points=args.points)
    print(json.dumps(run_in_terminal(job), indent=2))
    return 0
