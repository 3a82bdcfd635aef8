"""Stage 2 of latent diffusion: noise schedules, samplers, classifier-free guidance, the sampling pipeline.

The denoiser network lives in :mod:`core.models` and knows nothing of schedules or autoencoders;
this package supplies everything around it (MONAI's generative split: network, scheduler, inferer).
``diffusers`` is imported lazily inside the functions that need it (it costs 3–4 s at start-up).
"""
from core.diffusion.guidance import classifier_free_guidance
from core.diffusion.latent_norm import LatentNorm
from core.diffusion.objective import diffusion_loss
from core.diffusion.pipeline import LatentDiffusionPipeline, PipelineStep
from core.diffusion.schedulers import (PREDICTIONS, SAMPLERS, build_scheduler, noise_schedule_config,
                                       predicted_x0)

__all__ = ["LatentDiffusionPipeline", "LatentNorm", "PREDICTIONS", "PipelineStep", "SAMPLERS", "build_scheduler",
           "classifier_free_guidance", "diffusion_loss", "noise_schedule_config", "predicted_x0"]
