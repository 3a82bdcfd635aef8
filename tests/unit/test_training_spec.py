"""RunSpec/ResumeSpec check themselves, so the CLI and the app refuse the same requests; building one is torch-free."""
from __future__ import annotations

import subprocess
import sys

import pytest

from core.errors import InputError
from core.jobs import Failed
from core.jobs.train import TrainJob
from core.training.spec import ResumeSpec, RunSpec


@pytest.mark.parametrize(("change", "option"), [
    ({"ae_steps": 0}, "--ae-steps"), ({"ldm_steps": -5}, "--ldm-steps"), ({"batch_size": 0}, "--batch-size"),
    ({"max_shapes": 0}, "--max-shapes"), ({"lr": 0.0}, "--lr"), ({"representation": "mesh"}, "--repr"),
    ({"ae_kind": "gan"}, "--ae"), ({"preset": "huge"}, "--preset"), ({"resolution": 48}, "--res"),
    ({"ae_from": "builtin:points", "ae_steps": 10}, "--ae-from"), ({"data": " "}, "--data"),
    ({"denoiser_width": 0}, "--denoiser-width"), ({"denoiser_depth": 0}, "--denoiser-depth"),
    ({"denoiser_patch": 3}, "--denoiser-patch"),
    ({"denoiser_patch": 1}, "--denoiser-patch"),  # points have no UNet
    ({"ae_latent_noise": -0.1}, "--ae-latent-noise"), ({"ae_latent_noise": 2.0}, "--ae-latent-noise"),
    ({"ae_latent_noise": 0.5, "ae_from": "builtin:points"}, "--ae-latent-noise"),  # stage 1 is skipped
    ({"ae_latent": "tokens"}, "--ae-latent"),  # point latents are tokens already
    ({"representation": "voxels", "ae_latent": "octree"}, "--ae-latent"),
    ({"representation": "splats", "ae_latent": "tokens", "denoiser_patch": 1}, "--denoiser-patch"),  # a DiT's
    ({"min_snr_gamma": 0.0}, "--min-snr"), ({"representation": "voxels", "ae_loss": "hinge"}, "--ae-loss"), ({"ae_loss": "focal_dice"}, "--ae-loss"),
    ({"representation": "voxels", "ae_loss": "focal_cldice", "ae_from": "builtin:voxels"}, "--ae-loss"),
    ({"zero_terminal_snr": True, "prediction": "epsilon"}, "--zero-terminal-snr"),  # only v can learn pure noise
    ({"beta_schedule": "cosine"}, "--beta-schedule"),
    ({"prediction": "flow", "beta_schedule": "linear"}, "--beta-schedule"),  # flow matching has its own path
    ({"denoiser_dropout": 1.0}, "--denoiser-dropout"), ({"denoiser_dropout": -0.1}, "--denoiser-dropout"),
    ({"representation": "voxels", "denoiser_dropout": 0.1}, "--denoiser-dropout"),  # a grid latent's UNet has none
])
def test_a_run_spec_names_the_option_it_cannot_use(change: dict, option: str) -> None:
    spec = RunSpec(**{"data": "builtin", "representation": "points", **change})
    with pytest.raises(InputError) as error:
        spec.check()
    assert error.value.source == option


def test_good_specs_pass() -> None:
    RunSpec(data="builtin", representation="voxels", ae_steps=1, lr=1e-3, resolution=16).check()
    # --ae-latent with --ae-from names the source's layout (a token-latent builtin:voxels), so the denoiser fits it
    RunSpec(data="builtin", representation="voxels", ae_latent="tokens", ae_from="builtin:voxels").check()
    RunSpec(data="builtin", representation="points", prediction="v", zero_terminal_snr=True).check()
    RunSpec(data="builtin", representation="points", beta_schedule="linear").check()
    RunSpec(data="builtin", representation="points", prediction="flow").check()
    ResumeSpec(ldm_steps=10).check()
    with pytest.raises(InputError, match="positive"):
        ResumeSpec(ae_steps=0).check()


def test_the_train_job_refuses_a_bad_spec_before_any_work(tmp_path) -> None:
    events = []
    assert TrainJob(tmp_path / "run", RunSpec(data="builtin", representation="points", ldm_steps=0)).run(
        events.append) is None
    assert isinstance(events[-1], Failed) and events[-1].bad_input and "--ldm-steps" in events[-1].error
    assert not (tmp_path / "run").exists()


def test_building_and_checking_a_spec_imports_no_torch() -> None:
    code = ("import sys; from core.training.spec import RunSpec; "
            "RunSpec(data='builtin', representation='points').check(); print('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_denoiser_sizes_reach_the_run_config() -> None:
    """--denoiser-width/--denoiser-depth/--denoiser-patch (the size and space-to-depth ablations) land in
    config.json's denoiser, which every later command rebuilds the network from; unset, the preset's stay."""
    from core.training.run_config import build_run_config

    spec = RunSpec(data="builtin", representation="voxels", preset="small", cond="class", denoiser_width=64,
                   denoiser_depth=3, denoiser_patch=1)
    spec.check()
    denoiser = build_run_config(spec, ["chair", "table"], "unit cube").denoiser
    assert (denoiser["width"], denoiser["depth"], denoiser["patch_size"]) == (64, 3, 1)
    preset = build_run_config(RunSpec(data="builtin", representation="voxels", preset="small"), ["chair"], "unit cube").denoiser
    assert (preset["width"], preset["depth"], preset["patch_size"]) == (48, 1, 2)


def test_denoiser_dropout_reaches_the_run_config() -> None:
    """--denoiser-dropout lands in config.json's denoiser (sampling rebuilds the DiT from it); unset, it is off."""
    from core.training.run_config import build_run_config

    spec = RunSpec(data="builtin", representation="voxels", ae_latent="tokens", cond="class", denoiser_dropout=0.1)
    spec.check()
    assert build_run_config(spec, ["chair", "table"], "unit cube").denoiser["dropout"] == 0.1
    plain = RunSpec(data="builtin", representation="points", cond="class")
    assert build_run_config(plain, ["chair", "table"], "unit cube").denoiser["dropout"] == 0.0


def test_latent_noise_reaches_the_autoencoder_config() -> None:
    from core.training.run_config import build_run_config

    spec = RunSpec(data="builtin", representation="voxels", preset="small", ae_latent_noise=0.7)
    spec.check()
    assert build_run_config(spec, ["chair"], "unit cube").autoencoder["latent_noise"] == 0.7
    assert build_run_config(RunSpec(data="builtin", representation="voxels"), ["chair"], "unit cube"
                            ).autoencoder["latent_noise"] == 0.0


def test_an_autoencoder_loss_reaches_the_autoencoder_config() -> None:
    from core.training.run_config import build_run_config

    spec = RunSpec(data="builtin", representation="voxels", preset="small", ae_loss="focal_cldice")
    spec.check()
    assert build_run_config(spec, ["chair"], "unit cube").autoencoder["loss"] == "focal_cldice"


def test_min_snr_reaches_the_run_config_and_round_trips() -> None:
    from core.training.run_config import RunConfig, build_run_config

    config = build_run_config(RunSpec(data="builtin", representation="points", min_snr_gamma=5.0), ["chair"], "x")
    assert config.min_snr_gamma == 5.0 and RunConfig.from_dict(config.to_dict()) == config
    plain = build_run_config(RunSpec(data="builtin", representation="points"), ["chair"], "x").to_dict()
    assert "min_snr_gamma" not in plain  # runs without it write the config.json they always wrote


def test_a_token_latent_reaches_the_config_and_gets_a_dit() -> None:
    """--ae-latent tokens: config.json's autoencoder has the token layout at the point latent's sizes, and the
    denoiser built for it works on (K, C) tokens (the DiT), which sampling and resuming rebuild from it."""
    from core.training.run_config import build_run_config

    spec = RunSpec(data="builtin", representation="splats", preset="small", cond="class", ae_latent="tokens")
    spec.check()
    config = build_run_config(spec, ["chair", "table"], "unit sphere")
    assert config.autoencoder["latent_layout"] == "tokens"
    assert tuple(config.denoiser["latent_shape"]) == (32, 8)
    grid = build_run_config(RunSpec(data="builtin", representation="splats"), ["chair"], "unit sphere")
    assert grid.autoencoder["latent_layout"] == "grid" and len(grid.denoiser["latent_shape"]) == 4
