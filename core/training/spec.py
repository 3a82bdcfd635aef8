"""What a user asks of a training: a new run (:class:`RunSpec`) or more of an old one (:class:`ResumeSpec`).

Plain data with its own checks, and torch-free: the app builds a spec on the GUI thread, the CLI from its
options, and :class:`~core.jobs.train.TrainJob` checks it before any work, so both front ends refuse the
same requests with the same one-line messages (sources named as the ``train`` command's options).
"""
from __future__ import annotations

from dataclasses import dataclass

from core.choices import (AUTOENCODER_KINDS, BETA_SCHEDULES, CONDITIONINGS, DEFAULT_AUTOENCODER, DEFAULT_CONDITIONING,
                          DEFAULT_PREDICTION, DEFAULT_PRESET, DENOISER_PATCHES, GRID_RESOLUTIONS, LATENT_LAYOUTS,
                          LATENT_NORMS, MODEL_REPRESENTATIONS, PREDICTIONS, PRESETS, VOXEL_LOSSES)
from core.errors import InputError

#: counts that, when given, must be at least one
_POSITIVE_COUNTS = ("ae_steps", "ldm_steps", "n_points", "batch_size", "max_shapes", "denoiser_width",
                    "denoiser_depth")
#: noise beyond the latent's own std would leave the decoder nothing to read
MAX_LATENT_NOISE = 1.0


def _option(field: str) -> str:
    """The ``train`` option a field comes from, as error messages name it."""
    return f"--{field.replace('_', '-')}"


def _check_positive(spec: object, names: tuple[str, ...]) -> None:
    """Each of ``names`` that is set is a positive integer."""
    for name in names:
        value = getattr(spec, name)
        if value is not None and value < 1:
            raise InputError(_option(name), f"must be a positive integer, got {value}")


def _check_choice(option: str, value: object, choices: tuple) -> None:
    if value not in choices:
        raise InputError(option, f"unknown {value!r}; use one of {', '.join(map(str, choices))}")


def denoised_by_dit(representation: str, ae_latent: str | None) -> bool:
    """Token latents (points, ``--ae-latent tokens``) get a DiT; a grid latent gets a UNet. The one place that
    says so: the run's checks and the Train page's options both ask it."""
    return representation == "points" or ae_latent == "tokens"


@dataclass
class RunSpec:
    """What the user asked for (the ``train`` command's options); ``None`` means the preset's value."""

    data: str
    representation: str
    classes: list[str] | None = None
    ae_kind: str = DEFAULT_AUTOENCODER
    cond: str = DEFAULT_CONDITIONING
    preset: str = DEFAULT_PRESET
    ae_steps: int | None = None
    ldm_steps: int | None = None
    resolution: int = 32
    n_points: int | None = None
    prediction: str = DEFAULT_PREDICTION
    batch_size: int | None = None
    lr: float | None = None
    max_shapes: int | None = None
    seed: int = 0
    bf16: bool = False
    gradient_checkpointing: bool = False
    ae_from: str | None = None
    key: str | None = None
    #: the denoiser's base width, its depth (DiT blocks, or a UNet's residual blocks per level) and, for a grid
    #: latent's UNet, its space-to-depth factor (None: the preset's)
    denoiser_width: int | None = None
    denoiser_depth: int | None = None
    denoiser_patch: int | None = None
    #: the DiT's residual dropout in training (DenoiserConfig.dropout; None: off)
    denoiser_dropout: float | None = None
    #: noise-augmented decoding in stage 1 (AutoencoderConfig.latent_noise; None: off)
    ae_latent_noise: float | None = None
    #: a grid autoencoder's latent layout, "grid" or "tokens" (AutoencoderConfig.latent_layout; None: grid)
    ae_latent: str | None = None
    #: stage 2's Min-SNR-γ loss weighting (None: plain MSE; core.diffusion.objective.min_snr_weight)
    min_snr_gamma: float | None = None
    #: stage 2's betas rescaled to a zero terminal SNR (core.diffusion.noise_schedule_config; needs v-prediction)
    zero_terminal_snr: bool = False
    #: a voxel autoencoder's reconstruction loss (AutoencoderConfig.loss; None: the representation's default)
    ae_loss: str | None = None
    #: how stage 2 normalises latents (core.diffusion.latent_norm; None: one global factor, as runs always had)
    latent_norm: str | None = None
    #: stage 2's betas (core.diffusion.noise_schedule_config; None: LDM's scaled_linear, as runs always had)
    beta_schedule: str | None = None

    def autoencoder_overrides(self) -> dict[str, float | str]:
        """The stage-1 settings asked for, as :func:`core.models.autoencoder_config` overrides."""
        settings = {"latent_noise": self.ae_latent_noise, "latent_layout": self.ae_latent, "loss": self.ae_loss}
        return {name: value for name, value in settings.items() if value is not None}

    def denoiser_overrides(self) -> dict[str, int | float]:
        """The denoiser settings asked for, as :func:`core.models.denoiser_config` overrides."""
        settings = {"width": self.denoiser_width, "depth": self.denoiser_depth, "patch_size": self.denoiser_patch,
                    "dropout": self.denoiser_dropout}
        return {name: value for name, value in settings.items() if value is not None}

    def check(self) -> None:
        """Refuse a request no training can satisfy (an InputError naming the option), before any work."""
        if not str(self.data).strip():
            raise InputError("--data", "a dataset is needed to start a run")
        _check_choice("--repr", self.representation, MODEL_REPRESENTATIONS)
        _check_choice("--ae", self.ae_kind, AUTOENCODER_KINDS)
        _check_choice("--cond", self.cond, CONDITIONINGS)
        _check_choice("--preset", self.preset, PRESETS)
        _check_choice("--prediction", self.prediction, PREDICTIONS)
        _check_choice("--res", self.resolution, GRID_RESOLUTIONS)
        _check_positive(self, _POSITIVE_COUNTS)
        if self.lr is not None and not self.lr > 0:
            raise InputError("--lr", f"must be positive, got {self.lr}")
        if self.ae_latent_noise is not None:
            if not 0 <= self.ae_latent_noise <= MAX_LATENT_NOISE:
                raise InputError("--ae-latent-noise", f"must be in [0, {MAX_LATENT_NOISE}] (a multiple of the latent's "
                                                      f"std), got {self.ae_latent_noise}")
        if self.ae_latent is not None:
            _check_choice("--ae-latent", self.ae_latent, LATENT_LAYOUTS)
            if self.representation == "points":
                raise InputError("--ae-latent", "applies to voxel and splat grids; point latents are always tokens")
        # --ae-latent names the source's layout, so the denoiser is built for it (reuse_autoencoder checks it);
        # the latent noise only changes how stage 1 trains, which --ae-from skips
        if self.ae_from is not None and self.ae_latent_noise is not None:
            raise InputError("--ae-latent-noise", "changes stage 1, which --ae-from skips")
        if self.min_snr_gamma is not None and not self.min_snr_gamma > 0:
            raise InputError("--min-snr", f"γ must be positive (the paper's is 5), got {self.min_snr_gamma}")
        if self.zero_terminal_snr and self.prediction != "v":
            raise InputError("--zero-terminal-snr", "needs --prediction v (flow's path ends in pure noise already): at "
                                                    "zero SNR the noise is the whole input, so an ε-prediction says "
                                                    "nothing about the shape")
        if self.latent_norm is not None:
            _check_choice("--latent-norm", self.latent_norm, LATENT_NORMS)
        if self.beta_schedule is not None:
            _check_choice("--beta-schedule", self.beta_schedule, BETA_SCHEDULES)
            if self.prediction == "flow":
                raise InputError("--beta-schedule", "flow matching (--prediction flow) has its own noise path")
        if self.ae_loss is not None:
            _check_choice("--ae-loss", self.ae_loss, VOXEL_LOSSES)
            if self.representation != "voxels":
                raise InputError("--ae-loss", f"applies to voxel autoencoders; {self.representation} have their own loss")
            if self.ae_from is not None:
                raise InputError("--ae-loss", "changes stage 1, which --ae-from skips")
        if self.denoiser_dropout is not None:
            if not 0 <= self.denoiser_dropout < 1:
                raise InputError("--denoiser-dropout", f"must be in [0, 1), got {self.denoiser_dropout}")
            if not denoised_by_dit(self.representation, self.ae_latent):
                raise InputError("--denoiser-dropout", "applies to the DiT of token latents (points, --ae-latent "
                                                       "tokens), not to a grid latent's UNet")
        if self.denoiser_patch is not None:
            if self.denoiser_patch not in DENOISER_PATCHES:
                raise InputError("--denoiser-patch", f"must be one of {DENOISER_PATCHES}, got {self.denoiser_patch}")
            if denoised_by_dit(self.representation, self.ae_latent):
                raise InputError("--denoiser-patch", "applies to the UNet of a grid latent; token latents (points, "
                                                     "--ae-latent tokens) are denoised by a DiT")
        if self.ae_from is not None and self.ae_steps is not None:
            raise InputError("--ae-from", "starts a new run from a trained autoencoder: it cannot be combined with "
                                          "--ae-steps")


@dataclass
class ResumeSpec:
    """Continuing a run (``train --resume``): everything comes from its config.json except what is given here.

    ``data`` points at the run's dataset where it lives now (after it was moved); ``ae_steps`` and
    ``ldm_steps`` change a stage's total (:func:`core.training.run_config.with_steps`), e.g. to train a
    finished run longer.
    """

    data: str | None = None
    ae_steps: int | None = None
    ldm_steps: int | None = None

    def steps(self) -> dict[str, int | None]:
        """The asked step count of each stage, None where unchanged."""
        return {"ae": self.ae_steps, "ldm": self.ldm_steps}

    def check(self) -> None:
        """New step totals, when given, are positive (that they do not undo steps taken is checked on the run)."""
        _check_positive(self, ("ae_steps", "ldm_steps"))
