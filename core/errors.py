"""The one error type for bad user input.

Every reader, loader and checkpoint check raises :class:`InputError` for a file or value a user
handed us that we cannot use. The CLI turns it into one line on stderr and exit code 2; the app
turns it into an error dialog. Anything else escaping is a bug in our code, not in the input.
"""
from __future__ import annotations

from os import PathLike


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
