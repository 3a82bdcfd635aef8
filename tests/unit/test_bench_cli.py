import json

from core.cli import main
from core.cli.commands import bench


def test_bench_collects_every_benchmark_into_one_json(tmp_path, monkeypatch, capsys):
    (tmp_path / "bench_alpha.py").write_text("def run(quick):\n    return {'ratio': 2.0, 'quick': quick}\n")
    (tmp_path / "bench_beta.py").write_text("def run(quick):\n    return {'ratio': 0.5}\n")
    monkeypatch.setattr(bench, "BENCHMARKS", tmp_path)
    out = tmp_path / "out" / "bench.json"
    assert main(["bench", "--quick", "--only", "alpha", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["benchmarks"]["alpha"]["ratio"] == 2.0 and report["benchmarks"]["alpha"]["quick"] is True
    assert "beta" not in report["benchmarks"]


def test_bench_unknown_name_is_bad_input(tmp_path, monkeypatch, capsys):
    (tmp_path / "bench_alpha.py").write_text("def run(quick):\n    return {}\n")
    monkeypatch.setattr(bench, "BENCHMARKS", tmp_path)
    assert main(["bench", "--only", "gamma"]) == 2
    assert "gamma" in capsys.readouterr().err
