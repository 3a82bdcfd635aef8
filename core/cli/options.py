"""Options several commands share, worded once."""
from __future__ import annotations

import argparse

from core.data import open_dataset


def add_strict_option(parser: argparse.ArgumentParser) -> None:
    """``--strict``: a dataset folder with a file that does not load is an error instead of being read without it."""
    parser.add_argument("--strict", action="store_true",
                        help="fail (exit 2) when any file of a dataset folder does not load, instead of skipping it")


def add_key_option(parser: argparse.ArgumentParser, dataset: str = "the dataset") -> None:
    """``--key``: which array of an ``.npz`` dataset holds the shapes (its labels are found by name)."""
    parser.add_argument("--key", help=f"the array of {dataset}'s .npz files holding the shapes (default: the only "
                                      "one besides labels, else points, voxels or data); labels/label become classes")


def check_strict(args: argparse.Namespace, path: str | None, key: str | None = None) -> None:
    """With ``--strict``, open the dataset at ``path`` first so a skipped file fails before any work starts.

    The files' verdicts are cached, so the job's own open of the same dataset reads nothing again.
    """
    if args.strict and path is not None:
        open_dataset(path, strict=True, key=key)
