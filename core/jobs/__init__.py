"""Job API: plain objects with ``run(on_event, cancel)`` that emit dataclass events and never import Qt."""
from core.jobs.base import CancelToken, Cancelled, EventHandler, Job
from core.jobs.events import Done, Event, Failed, Log, Metric, Preview, Progress

__all__ = ["CancelToken", "Cancelled", "Done", "Event", "EventHandler", "Failed", "Job", "Log", "Metric",
           "Preview", "Progress", "edit_job"]

#: the editing jobs of :mod:`core.jobs.edit` by their command name
EDIT_JOBS = ("interpolate", "vary", "complete")


def edit_job(name: str) -> type[Job]:
    """The editing job class named ``name`` (one of :data:`EDIT_JOBS`), importing :mod:`core.jobs.edit` now.

    That module imports torch at its top, so the CLI's parser (which imports every command module for ``--help``)
    and the app's Edit page (imported at start-up) reach the classes through here when a job starts.
    """
    from core.jobs import edit

    return {"interpolate": edit.InterpolateJob, "vary": edit.VaryJob, "complete": edit.CompleteJob}[name]
