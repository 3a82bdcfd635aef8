"""``TrainJob``: train both stages of a latent diffusion run (or resume one), reporting events."""
from __future__ import annotations

from pathlib import Path

from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.results import TrainResult
from core.training.spec import ResumeSpec, RunSpec


class TrainJob(Job):
    """Stage 1 (autoencoder), latent statistics, stage 2 (denoiser) into ``run_dir``.

    ``spec`` (a :class:`core.training.RunSpec`) starts a new run (``spec.ae_from`` names a run whose
    trained autoencoder it starts from); a :class:`core.training.ResumeSpec` (or None) resumes the run
    in ``run_dir`` from its last checkpoints, where its data now lives and to new step totals if asked.
    Emits Progress per step, Metric per logged step, Log lines; cancel stops within one step and leaves
    a loadable ``last`` checkpoint, and the Failed event names it. The result is a
    :class:`~core.jobs.results.TrainResult`: the run folder, final checkpoint paths and the latent scale
    factor. ``previews=True`` also emits Preview (a few shapes from the EMA denoiser) after each stage-2
    checkpoint (:mod:`core.training.previews`).
    """

    name = "train"

    def __init__(self, run_dir: str | Path, spec: RunSpec | ResumeSpec | None = None, device: str = "cpu",
                 previews: bool = False) -> None:
        self.run_dir = Path(run_dir)
        self.spec = spec
        self.device = device
        self.previews = previews

    def execute(self, emit: EventHandler, cancel: CancelToken) -> TrainResult:
        """Check the request, then train (see :func:`core.training.train_run`)."""
        # the torch-backed training modules, imported here on the job's thread: the app's Train page and the CLI's
        # parser import this module, and must not import torch (issue 21's lazy point here)
        from core.models.text_encoder import model_dir
        from core.training.previews import with_previews
        from core.training.run import train_run

        if self.spec is not None:
            self.spec.check()
        if isinstance(self.spec, RunSpec) and self.spec.cond == "text":
            model_dir()  # a missing text encoder fails now, not after stage 1
        if self.previews:
            emit = with_previews(self.run_dir, emit)
        return train_run(self.run_dir, self.spec, self.device, emit, cancel)
