"""The headless CLI: ``python -m core COMMAND …``, one module per command under ``core.cli.commands``.

Each command module defines ``register(subparsers)`` that adds its parser and sets ``handler``;
modules are discovered, so adding a command is adding a file. Handlers import heavy libraries
(torch, open3d, diffusers) lazily so start-up stays fast.

No traceback reaches the terminal unless asked for: bad input is ``error: FILE: problem``, and an
unexpected exception (a bug) is one line naming the file and the step it happened in, both with exit
code 2; ``--debug`` anywhere on the command line prints the traceback as well.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import sys
import traceback

from core.cli import commands
from core.cli.runner import Interrupted
from core.errors import InputError, step_of

DEBUG_FLAG = "--debug"
#: exit code of bad input and of an unexpected failure (argparse uses 2 for bad options too)
EXIT_BAD_INPUT = 2
#: command arguments that name what a command works on, in the order an unexpected error names them
_SUBJECT_ARGUMENTS = ("path", "source", "samples", "data", "run_dir", "ref", "out")
#: longest exception message an unexpected-error line carries
_MAX_MESSAGE = 300


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every discovered command."""
    parser = argparse.ArgumentParser(prog="python -m core", description="Latent3D Studio headless CLI")
    parser.add_argument(DEBUG_FLAG, action="store_true",
                        help="on an error, also print the Python traceback (accepted anywhere on the line)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the command; any error is one line on stderr and exit code 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = DEBUG_FLAG in argv
    args = build_parser().parse_args([word for word in argv if word != DEBUG_FLAG])
    try:
        return int(args.handler(args) or 0)
    except Interrupted as stop:  # a job that a signal stopped says what it kept and how to go on
        if str(stop):
            with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone; the work is saved
                print(stop, file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(error_line(exc, args), file=sys.stderr)
        return EXIT_BAD_INPUT


def error_line(exc: Exception, args: argparse.Namespace) -> str:
    """``error: FILE: problem`` for bad input; for a bug, the file and step it happened in, and its message."""
    if isinstance(exc, InputError):
        return f"error: {exc}"
    step, source = step_of(exc) or (f"running '{args.command}'", _subject(args))
    message = " ".join(str(exc).split())[:_MAX_MESSAGE]
    where = f"{source}: " if source else ""
    return (f"error: {where}unexpected failure while {step} ({type(exc).__name__}{': ' + message if message else ''}); "
            f"rerun with {DEBUG_FLAG} for the traceback")


def _subject(args: argparse.Namespace) -> str | None:
    """The file or folder a command works on, for naming it in an unexpected error."""
    return next((str(value) for name in _SUBJECT_ARGUMENTS if (value := getattr(args, name, None))), None)
