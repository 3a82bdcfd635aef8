"""Events long work emits while it runs. Plain dataclasses: the CLI prints them, the app turns them into signals.

They live at the bottom of ``core`` because both the jobs and the training loop under them report with
them (``core.jobs.events`` offers the same names to job code).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units of work finished (total 0 means unknown)."""

    done: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class Log:
    """A human-readable line; level is 'info' or 'warning'."""

    message: str
    level: str = "info"


@dataclass(frozen=True)
class Metric:
    """Logged scalar values of one step of one stage (e.g. stage='ae', values={'loss': 0.1})."""

    stage: str
    step: int
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Preview:
    """Intermediate shapes (e.g. the decoded x0 estimate while denoising) for live views."""

    step: int
    total: int
    shapes: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Done:
    """The job finished; ``result`` is its return value."""

    result: Any = None


@dataclass(frozen=True)
class Failed:
    """The job stopped: a one-line ``error``; ``bad_input`` is True for the user's input, not a bug."""

    error: str
    bad_input: bool = False
    cancelled: bool = False


Event = Progress | Log | Metric | Preview | Done | Failed
EventHandler = Callable[[Event], None]
