"""The events a job emits (:mod:`core.events`), under the name the job API has always offered.

They are defined below ``core.jobs`` so that ``core.training`` can report progress without importing
the jobs built on top of it.
"""
from core.events import Done, Event, EventHandler, Failed, Log, Metric, Preview, Progress

__all__ = ["Done", "Event", "EventHandler", "Failed", "Log", "Metric", "Preview", "Progress"]
