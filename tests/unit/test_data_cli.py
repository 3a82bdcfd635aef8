"""``python -m core datasets inspect``: JSON, the table, exit code 2 with one line on bad input."""
from __future__ import annotations

import json
import subprocess
import sys

from core.cli import main
from core.data.builtin import CLASSES, make_shape
from core.io import write_mesh
from core.jobs import Done, Progress
from core.jobs.inspect import InspectJob


def _folder(root):
    for name, split in [("mug", "train"), ("mug", "test"), ("lamp", "train")]:
        write_mesh(make_shape(name, 0 if split == "train" else 1), root / name / split / f"{name}_{split}.obj")
    return root


def test_inspect_json(tmp_path, capsys):
    assert main(["datasets", "inspect", str(_folder(tmp_path)), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["count"] == 3 and summary["representation"] == "mesh"
    assert summary["classes"] == {"lamp": 1, "mug": 2} and summary["splits"] == {"test": 1, "train": 2}
    assert summary["class_splits"]["mug"] == {"test": 1, "train": 1}
    assert summary["faces_per_shape"]["min"] < summary["faces_per_shape"]["max"]
    low, high = summary["bounds"]["min"], summary["bounds"]["max"]
    assert low[1] < 0.03 and high[1] > 0.3  # a lamp stands taller than a mug, raw units kept


def test_inspect_table(capsys):
    assert main(["datasets", "inspect", "builtin"]) == 0
    table = capsys.readouterr().out
    assert "builtin: 450 mesh shapes, 9 classes" in table
    assert all(f"\n{name}" in table for name in CLASSES)
    assert "total" in table.splitlines()[-1] and table.splitlines()[-1].split()[1:] == ["90", "360", "450"]


def test_inspect_job_reports_progress_and_done(tmp_path):
    events = []
    result = InspectJob(_folder(tmp_path)).run(events.append)
    assert result["count"] == 3
    assert [e.done for e in events if isinstance(e, Progress)] == [1, 2, 3]
    assert isinstance(events[-1], Done)


def test_bad_path_exits_2_with_one_line(tmp_path):
    missing = tmp_path / "nowhere"
    process = subprocess.run([sys.executable, "-m", "core", "datasets", "inspect", str(missing), "--json"],
                             capture_output=True, text=True, timeout=120)
    assert process.returncode == 2 and process.stdout == ""
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "Traceback" not in process.stderr
