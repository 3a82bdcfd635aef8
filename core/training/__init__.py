"""Training: one loop for both stages, checkpoints, presets, runs (see :mod:`core.training.run`)."""
from core.training.checkpoint import Checkpoint, checkpoint_path, load_checkpoint, save_checkpoint
from core.training.presets import PRESETS, TrainingPreset, training_preset
from core.training.run import TrainedRun, load_trained, train_run
from core.training.run_config import DEFAULT_PREDICTION, ResumeSpec, RunSpec, read_run_config
from core.training.trainer import TrainConfig, Trainer, TrainingDiverged

__all__ = ["Checkpoint", "DEFAULT_PREDICTION", "PRESETS", "ResumeSpec", "RunSpec", "TrainConfig", "TrainedRun",
           "Trainer", "TrainingDiverged", "TrainingPreset", "checkpoint_path", "load_checkpoint", "load_trained",
           "read_run_config", "save_checkpoint", "train_run", "training_preset"]
