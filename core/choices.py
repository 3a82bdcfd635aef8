"""Every named choice a user picks from, written once for the library, the CLI and the app.

The app lists these in its combo boxes before torch is imported, and the CLI offers them as
``choices=``, so this module imports nothing but the standard library. The modules that *implement*
a choice (``core.diffusion.schedulers``, ``core.models.presets``, ``core.training.presets`` …) key
their tables by these names; ``tests/unit/test_choices.py`` checks that both sides agree.
"""
from __future__ import annotations

#: what the models train on and sample (``--repr`` of ``train``, the oracle's ``--repr`` of ``eval``)
MODEL_REPRESENTATIONS: tuple[str, ...] = ("points", "voxels", "splats")
#: every shape kind a dataset serves and ``convert --to`` writes: the model kinds plus meshes
SHAPE_REPRESENTATIONS: tuple[str, ...] = (*MODEL_REPRESENTATIONS, "mesh")
DEFAULT_REPRESENTATION = "points"
#: grid edge of voxels and splats (``--res``)
GRID_RESOLUTIONS: tuple[int, ...] = (16, 32, 64)
#: space-to-depth factors of a grid latent's denoiser UNet (``train --denoiser-patch``): 2 runs a 4x8³ latent as
#: 32x4³ (the ``small`` preset, 8x fewer positions), 1 keeps every latent cell a position of its own
DENOISER_PATCHES = (1, 2)

#: a voxel or splat autoencoder's latent (``train --ae-latent``): an r³ grid of C channels, or K tokens of C
#: channels as the point latents are (a set latent, denoised by a DiT; :mod:`core.models.token_latent`)
LATENT_LAYOUTS: tuple[str, ...] = ("grid", "tokens")

#: a voxel autoencoder's reconstruction loss (``train --ae-loss``): per-cell focal loss (the default), plain
#: BCE, or focal plus a whole-shape overlap term, soft Dice or clDice's skeleton overlap
#: (:mod:`core.models.overlap_losses`), for thin parts the per-cell loss lets break
VOXEL_LOSSES: tuple[str, ...] = ("focal", "bce", "focal_dice", "focal_cldice")
DEFAULT_VOXEL_LOSS = "focal"

#: how points and splats become a surface (``convert --mesh-method``, exports): "poisson" (faithful, may be
#: open) or "grid" (a filled grid's marching-cubes surface, always closed)
MESH_METHODS: tuple[str, ...] = ("poisson", "grid")
DEFAULT_MESH_METHOD = MESH_METHODS[0]

#: interpolation paths (``interpolate --path``): "latent" blends the encoded latents (the ends are exactly
#: the reconstructions); "noise" DDIM-inverts both to noise, slerps and samples back (DDIM, Song et al.
#: 2021, sec. 5.3)
INTERPOLATION_PATHS: tuple[str, ...] = ("latent", "noise")
DEFAULT_INTERPOLATION_PATH = INTERPOLATION_PATHS[0]

#: stage-1 bottlenecks: plain, KL-regularised, vector-quantised (``--ae``)
AUTOENCODER_KINDS: tuple[str, ...] = ("ae", "vae", "vqvae")
DEFAULT_AUTOENCODER = "ae"

#: what a denoiser is conditioned on (``--cond``)
CONDITIONINGS: tuple[str, ...] = ("none", "class", "text")
DEFAULT_CONDITIONING = "none"

#: network and schedule sizes: seconds (CI), an hour on 2 CPU cores, a GPU (``--preset``)
PRESETS: tuple[str, ...] = ("tiny", "small", "base")
DEFAULT_PRESET = "tiny"

#: what the denoiser predicts: the noise ε, the velocity v, or a flow's velocity u = ε − x0 on flow matching's
#: straight path (``--prediction``; :mod:`core.diffusion.parameterization`)
PREDICTIONS: tuple[str, ...] = ("epsilon", "v", "flow")
#: default ``--prediction``, measured with ``benchmarks/bench_ldm.py --predictions`` (tiny chair runs,
#: 100 AE + 300 denoiser steps, 32 samples vs 32 test chairs, 20 guided DPM-Solver++ steps): ε scored
#: MMD-CD 0.0259 / COV 6.3 % / 1-NNA 90.6 %, v 0.0276 / 3.1 % / 92.2 %. ε was better on all three at
#: equal cost, so it is the default; v stays selectable (it matters for zero-terminal-SNR schedules).
DEFAULT_PREDICTION = "epsilon"

#: how stage 2 brings latents to unit scale (``train --latent-norm``): one factor for all elements (LDM's), or
#: each element shifted by its training mean and divided by its std (:mod:`core.diffusion.latent_norm`)
LATENT_NORMS: tuple[str, ...] = ("global", "element")
DEFAULT_LATENT_NORM = "global"

#: stage 2's betas (``train --beta-schedule``, diffusers' names): LDM's "scaled_linear" (0.00085 to 0.012, linear in
#: √β; every shipped model's), DDPM's "linear" (1e-4 to 0.02, Ho et al. 2020), which keeps far less of the latent
#: at the last steps, or the cosine "squaredcos_cap_v2" (Nichol & Dhariwal 2021), which keeps more of it through
#: the middle ones (:mod:`core.diffusion.schedulers`)
BETA_SCHEDULES: tuple[str, ...] = ("scaled_linear", "linear", "squaredcos_cap_v2")
DEFAULT_BETA_SCHEDULE = BETA_SCHEDULES[0]

#: samplers, the default (DPM-Solver++, fewest steps for a given quality) first (``--sampler``)
SAMPLERS: tuple[str, ...] = ("dpmpp", "dpmpp_sde", "ddim", "euler", "ddpm")
DEFAULT_SAMPLER = SAMPLERS[0]
#: sampler steps when none are asked for
DEFAULT_SAMPLE_STEPS = 20
#: classifier-free guidance weight when neither the caller nor a built-in model's manifest names one
DEFAULT_GUIDANCE = 3.0

#: previews while stage 2 trains: few deterministic DDIM steps, so a preview costs a fraction of a
#: checkpoint interval
PREVIEW_STEPS = 10
PREVIEW_SAMPLER = "ddim"
