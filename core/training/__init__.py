"""Training: one loop for both stages, checkpoints, presets, runs (see :mod:`core.training.run`).

The names below are imported on first use (PEP 562), so the torch-free submodules (``pretrained``: the
built-in models' folders and manifest) can be read by the app's GUI thread without importing torch.
"""
from importlib import import_module
from typing import Any

#: public name -> submodule that defines it
_EXPORTS = {
    "Checkpoint": "checkpoint", "checkpoint_path": "checkpoint", "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
    "PRESETS": "presets", "TrainingPreset": "presets", "training_preset": "presets",
    "TrainedRun": "run", "load_trained": "run", "train_run": "run",
    "ResumeSpec": "spec", "RunSpec": "spec", "TrainResult": "result",
    "read_run_config": "run_config",
    "TrainConfig": "trainer", "Trainer": "trainer", "TrainingDiverged": "trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the submodule defining ``name`` when it is first asked for."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'core.training' has no attribute {name!r}")
    value = getattr(import_module(f"core.training.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
