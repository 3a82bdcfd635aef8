"""The headless CLI: ``python -m core COMMAND …``, one module per command under ``core.cli.commands``.

Each command module defines ``register(subparsers)`` that adds its parser and sets ``handler``;
modules are discovered, so adding a command is adding a file. Handlers import heavy libraries
(torch, open3d, diffusers) lazily so start-up stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from core.errors import InputError


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every discovered command."""
    from core.cli import commands

    parser = argparse.ArgumentParser(prog="python -m core", description="Latent3D Studio headless CLI")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the command; bad input is one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
