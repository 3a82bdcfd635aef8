"""Job API: plain objects with ``run(on_event, cancel)`` that emit dataclass events and never import Qt."""
from core.jobs.base import CancelToken, Cancelled, EventHandler, Job
from core.jobs.events import Done, Event, Failed, Log, Metric, Preview, Progress

__all__ = ["CancelToken", "Cancelled", "Done", "Event", "EventHandler", "Failed", "Job", "Log", "Metric",
           "Preview", "Progress"]
