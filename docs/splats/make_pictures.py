"""Render each scene of a splat run's dataset next to its grid encoding and its autoencoder reconstruction.

    python docs/splats/make_pictures.py RUN_DIR [--out docs/splats] [--up z]

One PNG per scene: the scene's Gaussians fitted into the grid frame (as training sees them), the
same Gaussians merged one per cell by the codec (the best any model of this grid can do), and the
run's autoencoder reconstruction of that grid (EMA weights), all drawn with Open3D's splat shader.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from core.data import open_dataset, splat_grid
from core.data.representations import shape_splats
from core.render import contact_sheet, render_shape, save_png
from core.training import load_trained

IMAGE_SIZE = (360, 360)


def main() -> None:
    """Reconstruct every training scene of RUN_DIR and write one comparison PNG per scene."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--out", default=str(Path(__file__).parent))
    parser.add_argument("--up", default="z", choices=("x", "y", "z"))
    args = parser.parse_args()

    run = load_trained(args.run_dir)
    rep, resolution = run.representation, run.config["data"]["resolution"]
    dataset = open_dataset(run.config["data"]["path"])
    with torch.no_grad():
        grids = rep.model_input(rep.load(dataset, 0, resolution))
        reconstructions = rep.to_shapes(rep.to_array(run.autoencoder.decode(run.autoencoder.encode(grids))))
    for index, record in enumerate(dataset.records):
        scene = splat_grid.fit_to_grid(shape_splats(dataset.load(index)), resolution)
        encoded = splat_grid.decode(splat_grid.encode(scene, resolution))
        shapes = [scene, encoded, reconstructions[index]]
        labels = [f"original ({len(scene):,} Gaussians)", f"one per cell, {resolution}^3 grid ({len(encoded):,})",
                  f"autoencoder ({len(reconstructions[index]):,})"]
        images = [render_shape(shape, IMAGE_SIZE, up=args.up) for shape in shapes]
        path = save_png(contact_sheet(images, labels, columns=3), Path(args.out) / f"{record.name}.png")
        print(path)


if __name__ == "__main__":
    main()
