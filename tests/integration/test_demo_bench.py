"""``benchmarks/bench_ldm.py`` on a random-weight stand-in: every figure is there and positive (no timing asserts)."""
from pathlib import Path

import pytest

from core.resources import RESOURCES_ENV

pytestmark = pytest.mark.slow  # tens of seconds on a loaded 2-core machine: DDPM's diffusers import, 16 shapes


@pytest.fixture(scope="module")
def bench_ldm(load_benchmark):
    return load_benchmark("bench_ldm")


def test_without_builtin_models_the_bench_labels_its_stand_in(bench_ldm, tmp_path, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    label, config, ae, denoiser, scale = bench_ldm.model_for("points")
    assert label.startswith("tiny preset, random weights") and config.classes == bench_ldm.CLASSES
    sampling = bench_ldm.sampling_speed(config, ae, denoiser, scale, baseline_steps=2)
    assert set(sampling) == {"1_shapes", "16_shapes", "ddpm_steps_timed"}
    for figures in (sampling["1_shapes"], sampling["16_shapes"]):
        assert figures["dpmpp20_s"] > 0 and figures["ddpm1000_s"] > 0
        assert figures["dpmpp20_over_ddpm1000"] == pytest.approx(figures["dpmpp20_s"] / figures["ddpm1000_s"], rel=0.01)


def test_train_steps_are_timed_in_float32_and_under_bf16_autocast(bench_ldm, tmp_path, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    _, config, ae, denoiser, _ = bench_ldm.model_for("points")
    figures = bench_ldm.train_speed(config, ae, denoiser)
    for stage in ("ae", "ldm"):
        assert figures[f"{stage}_steps_per_s"] > 0 and figures[f"{stage}_bf16_steps_per_s"] > 0
        assert figures[f"{stage}_bf16_over_fp32"] == pytest.approx(
            figures[f"{stage}_bf16_steps_per_s"] / figures[f"{stage}_steps_per_s"], rel=0.01)


def test_the_compiled_path_is_timed_next_to_eager_or_reported_as_an_error(bench_ldm, tmp_path, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    _, config, ae, denoiser, scale = bench_ldm.model_for("points")
    monkeypatch.setattr(bench_ldm.torch, "compile", lambda module: module)  # no C++ compiler needed here
    figures = bench_ldm.compiled_speed(config, ae, denoiser, scale)
    assert figures["shapes"] == 16 and figures["eager_s"] > 0 and figures["compile_and_first_call_s"] > 0
    assert figures["compiled_over_eager"] == pytest.approx(figures["compiled_s"] / figures["eager_s"], rel=0.01)

    def no_compiler(module):
        raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\nmore detail")

    monkeypatch.setattr(bench_ldm.torch, "compile", no_compiler)
    assert bench_ldm.compiled_speed(config, ae, denoiser, scale) == {
        "error": "RuntimeError: InvalidCxxCompiler: No working C++ compiler found"}


def test_viewport_bench_times_points_discs_and_the_gaussian_shader_on_one_shape(tmp_path):
    """In its own process, as ``bench`` runs: its renderers are made at the viewport's size and stay."""
    import json
    import subprocess
    import sys

    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "core", "bench", "--quick", "--only", "viewport", "--json", str(out)],
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    chair = json.loads(out.read_text())["benchmarks"]["viewport"]["shapes"]["chair splats (ModelNet10, loader)"]
    assert chair["gaussians"] == 4096 and set(chair) >= {"points", "discs", "gaussian"}
    assert all(chair[d]["orbit_frame_s"] > 0 for d in ("points", "discs", "gaussian"))
    assert chair["discs"]["orbit_frame_s"] < chair["gaussian"]["orbit_frame_s"]  # the point of the disc path
