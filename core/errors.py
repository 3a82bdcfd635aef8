"""The one error type for bad user input, and the tag that lets an unexpected error name its step.

Every reader, loader and checkpoint check raises :class:`InputError` for a file or value a user
handed us that we cannot use. The CLI turns it into one line on stderr and exit code 2; the app
turns it into an error dialog. Anything else escaping is a bug in our code, not in the input; code
that works on one file wraps that work in :func:`during`, so even a bug is reported as one line
naming the file and the step (the traceback only with ``--debug``).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike

#: attribute :func:`during` sets on an unexpected exception: ``(step, source or None)``
STEP_ATTRIBUTE = "latent3d_step"


class InputError(ValueError):
    """Bad input: carries the offending source (a path or a name) and a one-line problem."""

    def __init__(self, source: str | PathLike[str] | None, problem: str) -> None:
        self.source = None if source is None else str(source)
        self.problem = " ".join(str(problem).split())  # always one line
        super().__init__(self.problem if self.source is None else f"{self.source}: {self.problem}")


class ShapeError(InputError):
    """A shape container was given arrays of the wrong shape, dtype or with NaN/Inf."""

    def __init__(self, problem: str) -> None:
        super().__init__(None, problem)


@contextmanager
def during(step: str, source: str | PathLike[str] | None = None) -> Iterator[None]:
    """Tag an unexpected exception raised inside the block with ``step`` and ``source``.

    The innermost tag wins: it is the most precise. InputError passes untouched (it already names
    its source and says what is wrong).
    """
    try:
        yield
    except InputError:
        raise
    except Exception as exc:
        if not hasattr(exc, STEP_ATTRIBUTE):
            setattr(exc, STEP_ATTRIBUTE, (step, None if source is None else str(source)))
        raise


def step_of(exc: BaseException) -> tuple[str, str | None] | None:
    """The ``(step, source)`` :func:`during` tagged ``exc`` with, or None."""
    return getattr(exc, STEP_ATTRIBUTE, None)
