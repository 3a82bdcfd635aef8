"""The Train page's form asks for every option of the ``train`` command, and a run started from it over a
built-in model's autoencoder is trained with what the form said (the shipped models' recipes, from the app)."""
from __future__ import annotations

import json

from core.training.pretrained import BUILTIN_PREFIX, builtin_folders

MODELNET = "modelnet10_pointclouds_1024"
JOB_TIMEOUT_MS = 120_000


def test_a_builtin_autoencoder_sets_what_the_run_must_share_and_skips_stage_one(window):
    form = window.train.form
    form.repr_combo.setCurrentText("voxels")
    form.preset_combo.setCurrentText("tiny")
    form.ae_steps.setValue(500)
    assert form.loss_combo.isEnabled() and form.ae_steps.isEnabled()
    form.ae_from_combo.setCurrentText(BUILTIN_PREFIX + "splats")
    shipped = json.loads((builtin_folders()[BUILTIN_PREFIX + "splats"] / "config.json").read_text())
    assert form.repr_combo.currentText() == "splats" == shipped["representation"]
    assert form.preset_combo.currentText() == shipped["preset"]
    assert form.latent_combo.currentText() == shipped["autoencoder"]["latent_layout"] == "tokens"
    assert not form.ae_steps.isEnabled() and not form.loss_combo.isEnabled()  # stage 1 is not trained here
    form.data_edit.setText("builtin")
    spec = form.spec()
    spec.check()  # the job's own checks accept it (no AE steps or loss beside --ae-from)
    assert (spec.ae_from, spec.ae_steps, spec.ae_loss, spec.ae_latent) == ("builtin:splats", None, None, "tokens")


def test_the_advanced_tab_maps_onto_the_run_spec(window):
    form = window.train.form
    form.data_edit.setText("builtin")
    defaults = form.spec()
    assert (defaults.ae_steps, defaults.ldm_steps, defaults.denoiser_width, defaults.denoiser_depth,
            defaults.min_snr_gamma, defaults.max_shapes, defaults.bf16, defaults.ae_loss,
            defaults.zero_terminal_snr, defaults.latent_norm, defaults.beta_schedule, defaults.denoiser_dropout) == \
        (None, None, None, None, None, None, False, None, False, None, None, None)
    form.repr_combo.setCurrentText("voxels")
    form.latent_combo.setCurrentText("tokens")
    form.loss_combo.setCurrentText("focal_cldice")
    form.prediction_combo.setCurrentText("v")
    form.width_spin.setValue(384)
    form.depth_spin.setValue(8)
    form.min_snr.setValue(5)
    form.bf16.setChecked(True)
    form.zero_snr.setChecked(True)
    form.ldm_steps.setValue(20_000)
    form.latent_norm_combo.setCurrentText("element")
    form.betas_combo.setCurrentText("linear")
    form.dropout.setValue(0.1)
    spec = form.spec()
    spec.check()
    assert (spec.representation, spec.ae_latent, spec.ae_loss, spec.prediction) == ("voxels", "tokens",
                                                                                    "focal_cldice", "v")
    assert (spec.denoiser_width, spec.denoiser_depth, spec.min_snr_gamma, spec.bf16, spec.ldm_steps) == \
        (384, 8, 5.0, True, 20_000)
    assert spec.zero_terminal_snr and spec.latent_norm == "element" and spec.beta_schedule == "linear"
    assert spec.denoiser_dropout == 0.1
    form.latent_combo.setCurrentText("grid")  # a grid latent's UNet has no dropout
    assert not form.dropout.isEnabled() and form.spec().denoiser_dropout is None
    form.latent_combo.setCurrentText("tokens")
    form.loss_combo.setCurrentText("focal")  # the default loss stays unset, as the CLI leaves it
    form.repr_combo.setCurrentText("points")  # points have neither a latent layout nor a voxel loss
    assert not form.latent_combo.isEnabled() and not form.loss_combo.isEnabled()
    assert (form.spec().ae_latent, form.spec().ae_loss) == (None, None)
    form.prediction_combo.setCurrentText("epsilon")  # only v can learn the pure-noise step
    assert not form.zero_snr.isEnabled() and not form.spec().zero_terminal_snr
    form.betas_combo.setCurrentText("linear")
    form.prediction_combo.setCurrentText("flow")  # flow matching brings its own path: no betas to pick
    assert not form.betas_combo.isEnabled() and form.spec().beta_schedule is None
    form.spec().check()


def test_a_run_over_the_builtin_points_autoencoder_trains_the_asked_denoiser(qtbot, window, shared_data, tmp_path,
                                                                            error_boxes):
    page = window.train
    form = page.form
    form.data_edit.setText(str(shared_data / MODELNET))
    form.classes_edit.setText("chair,sofa")
    form.ae_from_combo.setCurrentText(BUILTIN_PREFIX + "points")
    form.ldm_steps.setValue(2)
    form.max_shapes.setValue(12)
    form.width_spin.setValue(64)
    form.prediction_combo.setCurrentText("v")
    form.min_snr.setValue(5)
    form.bf16.setChecked(True)
    form.zero_snr.setChecked(True)
    form.latent_norm_combo.setCurrentText("element")
    form.betas_combo.setCurrentText("linear")
    form.out_edit.setText(str(tmp_path / "run"))
    page.start_button.click()
    qtbot.waitUntil(lambda: page.runner is None, timeout=JOB_TIMEOUT_MS)
    assert error_boxes == []
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["autoencoder_from"]["run"] == "builtin:points" and config["representation"] == "points"
    assert (config["denoiser"]["width"], config["prediction"], config["min_snr_gamma"]) == (64, "v", 5.0)
    assert config["train"]["ldm"]["bf16"] is True and config["train"]["ldm"]["steps"] == 2
    assert config["schedule"]["rescale_betas_zero_snr"] is True and config["latent_norm"] == "element"
    assert (config["schedule"]["beta_schedule"], config["schedule"]["beta_end"]) == ("linear", 0.02)
    stats = json.loads((tmp_path / "run" / "checkpoints" / "ldm_last.json").read_text())["data"]
    assert stats["latent_norm"] == "element" and len(stats["latent_shift"]) == len(stats["latent_scale"]) > 0
    assert page.curves.points("ldm") > 0 and page.curves.points("ae") == 0  # stage 1 was reused, not trained


def test_resume_trains_a_finished_run_on_to_the_asked_total(qtbot, window, shared_data, tmp_path, error_boxes):
    page = window.train
    form = page.form
    form.data_edit.setText(str(shared_data / MODELNET))
    form.classes_edit.setText("chair")
    form.cond_combo.setCurrentText("none")
    form.ae_steps.setValue(2)
    form.ldm_steps.setValue(2)
    form.max_shapes.setValue(12)
    form.out_edit.setText(str(tmp_path / "run"))
    page.start_button.click()
    qtbot.waitUntil(lambda: page.runner is None, timeout=JOB_TIMEOUT_MS)
    form.ae_steps.setValue(0)  # "preset": stage 1 keeps its total
    form.ldm_steps.setValue(4)
    page.resume(tmp_path / "run")
    qtbot.waitUntil(lambda: page.runner is None, timeout=JOB_TIMEOUT_MS)
    assert error_boxes == []
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (config["train"]["ae"]["steps"], config["train"]["ldm"]["steps"]) == (2, 4)
    manifest = json.loads((tmp_path / "run" / "checkpoints" / "ldm_last.json").read_text())
    assert manifest["step"] == 4 and page.curves.points("ae") == 0  # stage 1 was finished, stage 2 went on
