"""``sample --guidance-interval LO,HI``: classifier-free guidance only at the steps whose noise level lies in
(LO, HI] (Kynkäänniemi et al. 2024), recorded in samples.json; a malformed interval is one line and exit code 2."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.cli import main
from core.io import read_array

REQUEST = ["sample", "builtin:points", "--class", "chair", "--n", "3", "--steps", "8", "--seed", "4", "--format", "npy"]


def _sample(tmp_path: Path, name: str, *extra: str) -> tuple[np.ndarray, dict]:
    out = tmp_path / name
    assert main([*REQUEST, *extra, "--out", str(out)]) == 0
    return read_array(out / "samples.npy"), json.loads((out / "samples.json").read_text())


def test_an_interval_guides_some_steps_and_is_recorded(tmp_path):
    guided, guided_request = _sample(tmp_path, "guided", "--guidance", "3")
    plain, _ = _sample(tmp_path, "plain", "--guidance", "1")
    limited, request = _sample(tmp_path, "limited", "--guidance", "3", "--guidance-interval", "0.5,5")
    assert request["guidance_interval"] == [0.5, 5.0] and "guidance_interval" not in guided_request
    # some steps guided, some not: neither the guided nor the plain samples
    assert not np.array_equal(limited, guided) and not np.array_equal(limited, plain)
    beyond, _ = _sample(tmp_path, "beyond", "--guidance", "3", "--guidance-interval", "100,200")
    assert np.array_equal(beyond, plain)  # no step's noise level reaches it: nothing is guided


def test_a_reversed_interval_is_one_line_and_exit_code_2(tmp_path, capsys):
    code = main([*REQUEST, "--guidance", "2", "--guidance-interval", "5,1", "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--guidance-interval" in err
    assert not (tmp_path / "s").exists()
