"""Seconds per named step of a job, each logged as it ends (the demo prints where its time went)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from core.jobs.base import EventHandler
from core.jobs.events import Log


class StepTimes(dict):
    """``{step name: seconds}``, filled by ``with times.step(name, emit): …``."""

    @contextmanager
    def step(self, name: str, emit: EventHandler) -> Iterator[None]:
        """Time the block as step ``name`` and log its duration."""
        started = time.perf_counter()
        yield
        self[name] = time.perf_counter() - started
        emit(Log(f"{name}: {self[name]:.2f} s"))
