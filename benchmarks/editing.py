"""Issue 19's figures: interpolation, variations and completion on ModelNet10 test chairs, and mesh export.

    python benchmarks/editing.py edits --model builtin:points --chairs 50 [--parts interpolate,vary,complete] --json points.json
    python benchmarks/editing.py meshes --n 10 --json meshes.json

``edits`` runs the jobs (through their Python API, as the CLI does) on the first ``--chairs`` test chairs
of modelnet10_pointclouds_1024, centred and scaled into the unit sphere: Chamfer distances (PointFlow's,
squared) are measured in the input's frame against the chair's 1,024 points; grids count their occupied
cells' centres (voxels) or splat centres as their points, and voxel runs add IoU on the model's 32³ grid
against the chair's own grid (its points fitted into [-1, 1]³ and voxelised as training did). Completion cuts
the half x > 0 away and tells the job so (``cut=x>0``).
``--json`` is rewritten after every chair, so a run stopped early keeps its figures and says how many
chairs they cover. ``meshes`` samples shapes from each built-in model, writes OBJ and GLB through ``to_mesh`` and reads
them back with Open3D and the project's reader. One JSON object per run.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "modelnet10_pointclouds_1024"
CLASSIFIER = ROOT / "resources" / "classifier"
STRENGTHS = (0.1, 0.3, 0.5, 0.7, 0.9)
#: the parts of ``edits`` (each chair is reconstructed whatever runs: the tables' reference)
PARTS = ("interpolate", "vary", "complete")
#: the issue's completion task: the half x > 0 of the centred chair cut away, and the job told so
CUT = "x>0"
#: the model measured with IoU besides Chamfer, on its grid (the built-in models' resolution)
VOXEL_MODEL, GRID = "builtin:voxels", 32
OPTIONS = {"class_name": "chair", "fmt": "npy"}
#: shapes per interpolation (the middle one is classified), variations per strength, completions per chair
INTERPOLATION_K, VARIATIONS, COMPLETIONS = 5, 4, 8


def test_chairs(count: int) -> np.ndarray:
    """The first ``count`` test chairs, bounding box centred, in the unit sphere: (count, 1024, 3)."""
    import h5py

    from core.data.representations import unit_sphere

    names = (DATA / "shape_names.txt").read_text().split()
    with h5py.File(DATA / "modelnet10_pcd1024_test.h5") as file:
        rows = np.flatnonzero(file["label"][:, 0] == names.index("chair"))[:count]
        return unit_sphere(file["data"][np.sort(rows)].astype(np.float32))


def points_of(shape) -> np.ndarray:
    """The shape's points in its frame (cloud points, occupied voxel centres, splat centres)."""
    from core.jobs.edit_inputs import surface_points

    return surface_points(shape).astype(np.float32)


def chamfer(a: np.ndarray, b: np.ndarray) -> float:
    """PointFlow's Chamfer distance of two clouds."""
    from core.metrics.distances import chamfer_distance

    return float(chamfer_distance(torch.from_numpy(a)[None], torch.from_numpy(b)[None])[0])


def one_sided(kept: np.ndarray, output: np.ndarray) -> float:
    """Mean squared distance from each kept point to the output (how well the output keeps them)."""
    from core.metrics.distances import nearest_squared_distances

    return float(nearest_squared_distances(torch.from_numpy(kept)[None], torch.from_numpy(output)[None])[0].mean())


def is_chair(classifier, shapes: list) -> list[bool]:
    """Whether the shipped PointNet classifier calls each shape a chair."""
    from core.data.representations import resample_index

    model, classes = classifier
    clouds = np.stack([points_of(s)[resample_index(len(points_of(s)), 1024, 0)] for s in shapes])
    return list(model.predict(clouds) == classes.index("chair"))


class VoxelTruth:
    """One chair on the voxel model's grid, for IoU: the grid its 1,024 points make when fitted into [-1, 1]³
    as training fitted them (the model's own input), and the cells on the kept side x ≤ 0 of the cut."""

    def __init__(self, chair: np.ndarray) -> None:
        from core.data.conversions import voxelize
        from core.data.grid_frame import grid_fit
        from core.shapes import PointCloud

        self.frame = grid_fit(chair.astype(np.float64), GRID)
        self.occupancy = voxelize(PointCloud(self.frame.apply(chair.astype(np.float64))), GRID).occupancy
        centres = (np.arange(GRID) + 0.5) * 2.0 / GRID - 1.0
        self.kept_side = np.broadcast_to((centres / self.frame.scale + self.frame.center[0] <= 0)[:, None, None],
                                         self.occupancy.shape)

    def iou(self, shape, in_model_frame: bool = False, kept_side: bool = False) -> float:
        """IoU of the shape's occupied cells with the chair's (``kept_side``: on that side only); a shape in
        the chair's frame is put on the chair's grid, one in the model frame (a sample) is read as it is."""
        points = points_of(shape).astype(np.float64)
        cells = np.floor(((points if in_model_frame else self.frame.apply(points)) + 1.0) * GRID / 2).astype(int)
        occupancy = np.zeros_like(self.occupancy)
        occupancy[tuple(cells[np.all((cells >= 0) & (cells < GRID), axis=1)].T)] = True
        where = self.kept_side if kept_side else np.ones_like(self.occupancy)
        union = ((occupancy | self.occupancy) & where).sum()
        return float(((occupancy & self.occupancy) & where).sum() / max(union, 1))


def edits(model: str, count: int, work: Path, parts: tuple[str, ...] = PARTS,
          report: Callable[[dict], None] | None = None) -> dict:
    """The figures of the table for one model: ``parts`` of interpolation, variation, completion; ``report``
    gets the figures so far after every chair (a run stopped early keeps them, with its real count)."""
    from core.models.classifier import load_classifier

    classifier = load_classifier(CLASSIFIER)
    chairs = test_chairs(count + 1)
    rows: dict = {}
    started = time.perf_counter()
    for i in range(count):
        truth = VoxelTruth(chairs[i]) if model == VOXEL_MODEL else None
        a = work / f"a{i}.npy"
        np.save(a, chairs[i])
        _reconstruction(model, a, chairs[i], truth, rows, work)
        if "interpolate" in parts:
            _interpolation(model, a, chairs[i], chairs[i + 1], i, classifier, rows, work)
        if "vary" in parts:
            _variation(model, a, chairs[i], i, classifier, truth, rows, work)
        if "complete" in parts:
            _completion(model, chairs[i], i, truth, rows, work)
        print(f"{model}: chair {i + 1}/{count} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        if report is not None:
            report(_summary(model, i + 1, rows, time.perf_counter() - started))
    return _summary(model, count, rows, time.perf_counter() - started)


def _add(rows: dict, key: str, value) -> None:
    rows.setdefault(key, []).append(value)


def _reconstruction(model: str, a: Path, chair: np.ndarray, truth, rows: dict, work: Path) -> None:
    """The chair through the autoencoder: the latent path's first shape is the reconstruction itself."""
    from core.jobs.edit import InterpolateJob

    shape = InterpolateJob(model, a, a, work / "r", n=2, **OPTIONS).run()["shapes"][0]
    _add(rows, "recon", chamfer(points_of(shape), chair))
    if truth is not None:
        _add(rows, "recon_iou", truth.iou(shape))
        _add(rows, "recon_iou_kept", truth.iou(shape, kept_side=True))


def _interpolation(model: str, a: Path, chair_a: np.ndarray, chair_b: np.ndarray, i: int, classifier, rows: dict,
                   work: Path) -> None:
    """Both paths from chair i to chair i + 1: the ends' Chamfer to the chairs and whether the middle is a chair."""
    from core.jobs.edit import InterpolateJob

    b = work / f"b{i}.npy"
    np.save(b, chair_b)
    for path in ("latent", "noise"):
        shapes = InterpolateJob(model, a, b, work / "i", n=INTERPOLATION_K, path=path, **OPTIONS).run()["shapes"]
        _add(rows, f"ends_{path}", (chamfer(points_of(shapes[0]), chair_a), chamfer(points_of(shapes[-1]), chair_b)))
        _add(rows, f"middle_chair_{path}", is_chair(classifier, [shapes[INTERPOLATION_K // 2]])[0])
        if model == VOXEL_MODEL:
            _add(rows, f"ends_{path}_iou", (VoxelTruth(chair_a).iou(shapes[0]), VoxelTruth(chair_b).iou(shapes[-1])))


def _variation(model: str, a: Path, chair: np.ndarray, i: int, classifier, truth, rows: dict, work: Path) -> None:
    """Variations at each strength: mean Chamfer (voxels: IoU) to the input, share classified chair."""
    from core.jobs.edit import VaryJob

    for strength in STRENGTHS:
        shapes = VaryJob(model, a, strength, work / "v", n=VARIATIONS, seed=i, **OPTIONS).run()["shapes"]
        _add(rows, f"vary_{strength}", np.mean([chamfer(points_of(s), chair) for s in shapes]))
        rows.setdefault(f"vary_chair_{strength}", []).extend(is_chair(classifier, shapes))
        if truth is not None:
            _add(rows, f"vary_iou_{strength}", np.mean([truth.iou(s) for s in shapes]))


def _completion(model: str, chair: np.ndarray, i: int, truth, rows: dict, work: Path) -> None:
    """The half x > 0 cut away and completed, best of 8 against unconditional chair samples' best of 8."""
    from core.jobs.edit import CompleteJob
    from core.jobs.edit_inputs import Cut
    from core.jobs.sample import SampleJob

    half = work / f"half{i}.npy"
    kept = chair[chair[:, 0] <= 0]
    np.save(half, kept)
    shapes = CompleteJob(model, half, work / "c", n=COMPLETIONS, seed=i, cut=Cut.parse(CUT), **OPTIONS).run()["shapes"]
    _add(rows, "kept", np.mean([one_sided(kept, points_of(s)) for s in shapes]))
    _add(rows, "completion_best", min(chamfer(points_of(s), chair) for s in shapes))
    sampled = SampleJob(model, COMPLETIONS, work / "s", class_name="chair", seed=i, fmt="npy", previews=False).run()
    samples = sampled["shapes"] if isinstance(sampled, dict) else sampled.shapes
    _add(rows, "unconditional_best", min(_best_unconditional(s, chair) for s in samples))
    if truth is not None:
        _add(rows, "kept_iou", np.mean([truth.iou(s, kept_side=True) for s in shapes]))
        _add(rows, "completion_best_iou", max(truth.iou(s) for s in shapes))
        _add(rows, "unconditional_best_iou", max(truth.iou(s, in_model_frame=True) for s in samples))


def _best_unconditional(shape, chair: np.ndarray) -> float:
    """Chamfer of an unconditional sample, in the unit-sphere frame like the chair (grids: their own [-1, 1]³
    frame rescaled to the chair's by the unit-sphere fit of their points)."""
    from core.shapes import Normalization

    points = points_of(shape).astype(np.float64)
    return chamfer(Normalization.unit_sphere(points).apply(points).astype(np.float32), chair)


def _summary(model: str, count: int, rows: dict, seconds: float) -> dict:
    """The table's numbers from the per-chair rows (the parts that ran)."""
    mean = lambda key: float(np.mean(rows[key]))  # noqa: E731
    median = lambda key: float(np.median(rows[key]))  # noqa: E731
    recon = mean("recon")
    table = {"model": model, "chairs": count, "seconds": round(seconds, 1), "recon_chamfer": recon}
    if "recon_iou" in rows:
        table.update(recon_iou=mean("recon_iou"), recon_iou_kept_side=mean("recon_iou_kept"))
    for path in ("latent", "noise"):
        if f"ends_{path}" in rows:
            ends = np.asarray(rows[f"ends_{path}"])
            table[f"interpolation_{path}"] = {"first_over_recon": float(ends[:, 0].mean() / recon),
                                              "last_over_recon": float(ends[:, 1].mean() / recon),
                                              "middle_is_chair": mean(f"middle_chair_{path}")}
            if f"ends_{path}_iou" in rows:
                table[f"interpolation_{path}"]["first_last_iou"] = np.asarray(rows[f"ends_{path}_iou"]).mean(0).tolist()
    if f"vary_{STRENGTHS[0]}" in rows:
        table["vary_chamfer"] = {str(s): mean(f"vary_{s}") for s in STRENGTHS}
        table["vary_is_chair"] = {str(s): mean(f"vary_chair_{s}") for s in STRENGTHS}
        if f"vary_iou_{STRENGTHS[0]}" in rows:
            table["vary_iou"] = {str(s): mean(f"vary_iou_{s}") for s in STRENGTHS}
    if "kept" in rows:
        table.update(completion_cut=CUT, completion_kept_over_recon=mean("kept") / recon,
                     completion_median_best_of_8=median("completion_best"),
                     unconditional_median_best_of_8=median("unconditional_best"),
                     completion_over_unconditional=median("completion_best") / median("unconditional_best"))
        if "kept_iou" in rows:
            table.update(completion_kept_side_iou=mean("kept_iou"),
                         completion_median_best_of_8_iou=median("completion_best_iou"),
                         unconditional_median_best_of_8_iou=median("unconditional_best_iou"))
    return table


def meshes(n: int, work: Path) -> dict:
    """OBJ and GLB of ``n`` samples of each built-in model, read back; the watertight shares."""
    import open3d as o3d

    from core.io import read_shape, write_mesh
    from core.jobs.sample import SampleJob
    from core.data.meshing import to_mesh

    table = {}
    for name in ("points", "voxels", "splats"):
        sampled = SampleJob(f"builtin:{name}", n, work / name, class_name="chair", fmt="npy", previews=False).run()
        shapes = sampled["shapes"] if isinstance(sampled, dict) else sampled.shapes
        read_back, watertight, started = 0, 0, time.perf_counter()
        for i, shape in enumerate(shapes):
            mesh = to_mesh(shape)
            for suffix in (".obj", ".glb"):
                path = work / name / f"{i}{suffix}"
                write_mesh(mesh, path)
                ours = read_shape(path)
                theirs = o3d.io.read_triangle_mesh(str(path))
                read_back += len(ours.faces) == len(mesh.faces) == len(theirs.triangles)
            theirs.remove_duplicated_vertices()  # GLB stores split vertices per primitive
            watertight += bool(theirs.is_edge_manifold() and theirs.is_vertex_manifold()
                               and len(theirs.get_non_manifold_edges(allow_boundary_edges=False)) == 0)
        table[name] = {"samples": n, "files_read_back": f"{read_back}/{2 * n}", "watertight": watertight / n,
                       "seconds_per_mesh": round((time.perf_counter() - started) / n, 2)}
    return table


def main() -> None:
    """Parse the command line and print (and optionally save) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    edit = sub.add_parser("edits")
    edit.add_argument("--model", default="builtin:points")
    edit.add_argument("--chairs", type=int, default=50)
    edit.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    mesh = sub.add_parser("meshes")
    mesh.add_argument("--n", type=int, default=10)
    for p in (edit, mesh):
        p.add_argument("--json", type=Path)
    args = parser.parse_args()

    def save(result: dict) -> None:
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")

    with tempfile.TemporaryDirectory() as folder:
        result = (edits(args.model, args.chairs, Path(folder), tuple(args.parts.split(",")), save)
                  if args.what == "edits" else meshes(args.n, Path(folder)))
    save(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
