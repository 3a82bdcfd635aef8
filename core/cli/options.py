"""Options several commands share, worded once."""
from __future__ import annotations

import argparse


def add_strict_option(parser: argparse.ArgumentParser) -> None:
    """``--strict``: a dataset folder with a file that does not load is an error instead of being read without it."""
    parser.add_argument("--strict", action="store_true",
                        help="fail (exit 2) when any file of a dataset folder does not load, instead of skipping it")


def check_strict(args: argparse.Namespace, path: str | None) -> None:
    """With ``--strict``, open the dataset at ``path`` first so a skipped file fails before any work starts.

    The files' verdicts are cached, so the job's own open of the same dataset reads nothing again.
    """
    if args.strict and path is not None:
        from core.data import open_dataset

        open_dataset(path, strict=True)
