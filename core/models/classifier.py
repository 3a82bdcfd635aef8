"""A small PointNet classifier (Qi et al., CVPR 2017, without the T-nets) to check conditional samples.

``eval --classifier`` reports how often a sample drawn for class c is classified as c. The model is
small on purpose (~20 k parameters, < 100 kB) so it ships in ``resources/classifier/``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.data.representations import resample_index, unit_sphere
from core.errors import InputError
from core.io import atomic_write

WEIGHTS = "classifier.safetensors"
MANIFEST = "classifier.json"
KIND = "pointnet-classifier"


@dataclass(frozen=True)
class ClassifierConfig:
    """Widths of the shared per-point MLP and of the head; ``n_points`` clouds are resampled to."""

    n_classes: int
    point_widths: tuple[int, ...] = (32, 64, 128)
    head_widths: tuple[int, ...] = (128,)
    dropout: float = 0.3
    n_points: int = 512


class PointNetClassifier(nn.Module):
    """Shared MLP per point, max-pool over points (order-invariant), MLP head -> class logits."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = 3
        for out in config.point_widths:
            layers += [nn.Linear(width, out), nn.LayerNorm(out), nn.GELU()]
            width = out
        self.point_mlp = nn.Sequential(*layers)
        head: list[nn.Module] = []
        for out in config.head_widths:
            head += [nn.Linear(width, out), nn.GELU(), nn.Dropout(config.dropout)]
            width = out
        head.append(nn.Linear(width, config.n_classes))
        self.head = nn.Sequential(*head)

    def forward(self, points: Tensor) -> Tensor:
        """Logits (B, n_classes) of normalised clouds (B, P, 3)."""
        return self.head(self.point_mlp(points).amax(dim=1))

    @torch.inference_mode()
    def predict(self, points: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Class index of each cloud (N, P, 3) in any frame: normalised into the unit sphere first."""
        self.eval()
        clouds = prepare_clouds(points, self.config.n_points)
        return np.concatenate([self(torch.from_numpy(clouds[i:i + batch_size])).argmax(1).numpy()
                               for i in range(0, len(clouds), batch_size)])


def prepare_clouds(points: np.ndarray, n_points: int, seed: int = 0) -> np.ndarray:
    """Clouds as the classifier sees them: unit-sphere normalised (the datasets' frame), ``n_points`` each."""
    normalised = unit_sphere(np.asarray(points, dtype=np.float32))
    return np.stack([c[resample_index(len(c), n_points, seed + i)] for i, c in enumerate(normalised)]
                    ).astype(np.float32)


def save_classifier(model: PointNetClassifier, classes: list[str], out_dir: str | Path, extra: dict) -> None:
    """Weights as safetensors and a JSON manifest (kind, config, classes, ``extra``), each written atomically."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / WEIGHTS) as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    manifest = {"kind": KIND, "config": asdict(model.config), "classes": list(classes), **extra}
    with atomic_write(out / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")


def load_classifier(folder: str | Path) -> tuple[PointNetClassifier, list[str]]:
    """The classifier saved in ``folder`` and its class names; a missing or foreign file is an InputError."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(folder / MANIFEST, f"not a classifier manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise InputError(folder / MANIFEST, f"kind is not {KIND!r}")
    try:
        config = ClassifierConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in manifest["config"].items()})
        model = PointNetClassifier(config)
        model.load_state_dict(load_file(str(folder / WEIGHTS)))
    except (KeyError, TypeError, RuntimeError, OSError, SafetensorError) as exc:
        raise InputError(folder, f"classifier weights do not match the manifest: {str(exc).splitlines()[0]}") from None
    classes = list(manifest["classes"])
    if len(classes) != config.n_classes:
        raise InputError(folder / MANIFEST, f"{len(classes)} class names for {config.n_classes} outputs")
    return model.eval(), classes
