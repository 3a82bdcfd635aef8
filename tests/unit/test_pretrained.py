"""``builtin:NAME`` resolution, the resources lookup, and the error for an unknown built-in model."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from core.cli import main
from core.diffusion import noise_schedule_config
from core.errors import InputError
from core.jobs.export_builtin import train_command, train_seconds, write_readme
from core.models.presets import autoencoder_config, denoiser_config
from core.training.run_config import RunConfig, shareable
from core.resources import RESOURCES_ENV, resources_dir
from core.training.pretrained import BUILTIN_PREFIX, builtin_names, pretrained_dir, read_manifest, resolve_run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def resources(tmp_path, monkeypatch) -> Path:
    """A resources folder with built-in models 'points' and 'voxels' (config only) and a stray folder."""
    for name in ("points", "voxels"):
        (tmp_path / "pretrained" / name).mkdir(parents=True)
        (tmp_path / "pretrained" / name / "config.json").write_text("{}")
    (tmp_path / "pretrained" / "half-copied").mkdir()  # no config.json: not a model
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    return tmp_path


def test_resources_default_to_the_checkout_and_follow_the_override(tmp_path, monkeypatch):
    monkeypatch.delenv(RESOURCES_ENV, raising=False)
    assert resources_dir() == ROOT / "resources"
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    assert resources_dir() == tmp_path and pretrained_dir() == tmp_path / "pretrained"


def test_a_wheel_install_finds_the_resources_under_its_prefix(tmp_path, monkeypatch):
    import core.resources

    site = tmp_path / "lib" / "site-packages"
    (site / "core").mkdir(parents=True)  # no resources/ beside the package, as in a wheel install
    (tmp_path / "share" / "latent3d-studio" / "resources").mkdir(parents=True)
    monkeypatch.delenv(RESOURCES_ENV, raising=False)
    monkeypatch.setattr(core.resources, "__file__", str(site / "core" / "resources.py"))
    monkeypatch.setattr(core.resources.sys, "prefix", str(tmp_path))
    assert resources_dir() == tmp_path / "share" / "latent3d-studio" / "resources"


def test_builtin_names_are_the_folders_with_a_config(resources):
    assert builtin_names() == ["points", "voxels"]


def test_no_pretrained_folder_means_no_builtin_models(tmp_path, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path / "nowhere"))
    assert builtin_names() == []
    with pytest.raises(InputError, match="none"):
        resolve_run("builtin:points")


def test_resolve_run_maps_builtin_names_and_leaves_paths_alone(resources, tmp_path):
    assert BUILTIN_PREFIX == "builtin:"
    assert resolve_run("builtin:points") == resources / "pretrained" / "points"
    assert resolve_run(Path("builtin:voxels")) == resources / "pretrained" / "voxels"
    assert resolve_run(tmp_path / "my_run") == tmp_path / "my_run"
    assert resolve_run("runs/a") == Path("runs/a")
    with pytest.raises(InputError) as error:
        resolve_run("builtin:splats")
    assert "builtin:points, builtin:voxels" in str(error.value) and "splats" in str(error.value)


def test_unknown_builtin_model_is_one_line_and_exit_code_2(resources, tmp_path, capsys):
    code = main(["sample", "builtin:splats", "--n", "2", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert err.startswith("error: builtin:splats:") and "builtin:points" in err
    assert not (tmp_path / "out").exists()


def test_a_broken_manifest_is_bad_input(tmp_path):
    assert read_manifest(tmp_path)["models"] == {}
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="manifest"):
        read_manifest(tmp_path)


def test_train_seconds_add_up_resumed_segments(tmp_path):
    records = [("ae", 10.0), ("ae", 20.0), ("ae", 5.0), ("ae", 7.5), ("ldm", 3.0)]  # ae resumed after 20 s
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps({"stage": s, "time": t}) + "\n" for s, t in records))
    assert train_seconds(tmp_path / "metrics.jsonl") == {"ae": 27.5, "ldm": 3.0}
    assert train_seconds(tmp_path / "missing.jsonl") is None


def test_rebuilt_train_command_has_the_runs_options():
    config = RunConfig(representation="points", cond="class", classes=["chair", "sofa"], preset="small", seed=0,
                       prediction="epsilon", autoencoder={"kind": "ae"}, denoiser={}, schedule={},
                       data={"path": "data.h5", "classes": ["chair", "sofa"], "resolution": 32, "n_points": 1024,
                             "max_shapes": None},
                       train={"ae": {"steps": 2000, "bf16": False}, "ldm": {"steps": 6000}})
    command = train_command(config, Path("runs/x"))
    assert command == ("python -m core train --data data.h5 --classes chair,sofa --repr points --ae ae --cond class "
                       "--preset small --ae-steps 2000 --ldm-steps 6000 --res 32 --points 1024 --prediction epsilon "
                       "--seed 0 --out runs/x")


def test_rebuilt_train_command_names_a_reused_autoencoder_and_every_size_the_preset_did_not_set():
    ae = autoencoder_config("small", "splats", "ae", latent_layout="tokens").to_dict()
    denoiser = denoiser_config("small", (32, 8), "class", num_classes=2, width=384, depth=6, dropout=0.1).to_dict()
    config = RunConfig(representation="splats", cond="class", classes=["chair", "sofa"], preset="small", seed=0,
                       prediction="v", autoencoder=ae, denoiser=denoiser,
                       schedule=noise_schedule_config("v", zero_terminal_snr=True, beta_schedule="linear"),
                       min_snr_gamma=5.0, latent_norm="element",
                       data={"path": "data.h5", "classes": ["chair", "sofa"], "resolution": 32, "n_points": 1024,
                             "max_shapes": None},
                       train={"ae": {"steps": 3000, "bf16": False}, "ldm": {"steps": 20000, "bf16": True}},
                       autoencoder_from={"run": "builtin:splats", "step": 3000})
    command = train_command(config, Path("runs/x"))
    assert command == ("python -m core train --data data.h5 --classes chair,sofa --repr splats --ae ae --cond class "
                       "--preset small --ae-from builtin:splats --ldm-steps 20000 --res 32 --points 1024 "
                       "--prediction v --ae-latent tokens --denoiser-width 384 --denoiser-depth 6 --denoiser-dropout 0.1 "
                       "--min-snr 5 "
                       "--zero-terminal-snr --beta-schedule linear --latent-norm element "
                       "--seed 0 --bf16 --out runs/x")


def test_a_flow_runs_command_leaves_out_the_path_its_prediction_brings():
    config = RunConfig(representation="points", cond="class", classes=["chair", "sofa"], preset="small", seed=0,
                       prediction="flow", autoencoder={"kind": "ae"}, denoiser={}, schedule=noise_schedule_config("flow"),
                       data={"path": "data.h5", "classes": ["chair", "sofa"], "resolution": 32, "n_points": 1024,
                             "max_shapes": None},
                       train={"ae": {"steps": 2000, "bf16": False}, "ldm": {"steps": 6000}})
    command = train_command(config, Path("runs/x"))
    assert "--prediction flow" in command
    assert "--zero-terminal-snr" not in command and "--beta-schedule" not in command  # refused beside flow


def test_a_shipped_config_names_the_data_as_given_not_this_machines_path():
    config = RunConfig(representation="points", cond="class", classes=["chair"], preset="small", seed=0,
                       prediction="epsilon", autoencoder={}, denoiser={}, schedule={}, train={},
                       data={"path": "/home/me/shared/data/pcd", "given": "../shared/data/pcd", "n_points": 1024})
    assert shareable(config).data == {"path": "../shared/data/pcd", "n_points": 1024}
    reused = replace(config, autoencoder_from={"run": "/home/me/runs/vox_ae8k", "step": 8000})
    assert shareable(reused).autoencoder_from == {"run": "vox_ae8k", "step": 8000}
    builtin = replace(config, autoencoder_from={"run": "builtin:splats", "step": 3000})
    assert shareable(builtin).autoencoder_from == {"run": "builtin:splats", "step": 3000}


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("name", builtin_names())
def test_the_shipped_models_name_no_folder_of_the_machine_that_trained_them(name):
    folder = pretrained_dir() / name
    for path in (folder / "config.json", *sorted((folder / "checkpoints").glob("*.json"))):
        assert not [text for text in _strings(json.loads(path.read_text())) if Path(text).is_absolute()], path


def _manifest_entry(**overrides) -> dict:
    """One model's manifest entry as export-builtin writes it; ``overrides`` replace its fields."""
    entry = {"name": "points", "representation": "points", "cond": "class", "classes": ["chair"],
             "source_data": "../shared/data/modelnet10_pointclouds_1024", "training_command": "python -m core train X",
             "steps": {"ae": 2000, "ldm": 6000}, "train_seconds": {"ae": 600.0, "ldm": 1800.0},
             "hardware": "2 CPU cores", "weights_dtype": "float16", "bytes": 3_000_000,
             "export_check": {"shapes": 4, "seed": 0, "max_abs_diff": 1e-3, "mean_abs_diff": 1e-4}}
    return {**entry, **overrides}


def test_readme_states_terms_commands_and_metrics(tmp_path):
    entry = _manifest_entry(metrics={"chair (samples)": {"MMD-CD": 0.01, "COV-CD": 0.45},
                                     "chair (oracle)": {"MMD-CD": 0.008, "COV-CD": 0.55}})
    text = write_readme(tmp_path, {"models": {"points": entry}}).read_text()
    assert "academic research use only" in text
    assert "`python -m core train X`" in text and "AE 10 min + LDM 30 min" in text and "2 CPU cores" in text
    assert "| chair (samples) | 0.01 | 0.45 |" in text and "| samples | MMD-CD | COV-CD |" in text


def test_readme_names_each_stage_time_and_a_reused_autoencoder(tmp_path):
    entry = _manifest_entry(name="splats", representation="splats", train_seconds={"ldm": 600.0})
    text = write_readme(tmp_path, {"models": {"splats": entry}}).read_text()
    assert "| LDM 10 min (AE reused from another run) |" in text


def test_peek_config_reads_a_builtin_model_and_gives_none_where_there_is_nothing_to_read(tmp_path):
    from core.training.pretrained import peek_config

    assert peek_config("builtin:points")["representation"] == "points"
    assert peek_config("builtin:no-such-model") is None and peek_config(tmp_path) is None
    (tmp_path / "config.json").write_text("[1, 2]")  # JSON, but not a run's config
    assert peek_config(tmp_path) is None
