"""Issue 19's figures: interpolation, variations and completion on ModelNet10 test chairs, and mesh export.

    python benchmarks/editing.py edits --model builtin:points --chairs 50 --json points.json
    python benchmarks/editing.py meshes --n 10 --json meshes.json

``edits`` runs the jobs (through their Python API, as the CLI does) on the first ``--chairs`` test chairs
of modelnet10_pointclouds_1024, centred and scaled into the unit sphere: Chamfer distances (PointFlow's,
squared) are measured in the input's frame against the chair's 1,024 points; grids count their occupied
cells' centres (voxels) or splat centres as their points, and voxel runs add IoU against the input's grid.
``meshes`` samples shapes from each built-in model, writes OBJ and GLB through ``to_mesh`` and reads
them back with Open3D and the project's reader. One JSON object per run.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "modelnet10_pointclouds_1024"
CLASSIFIER = ROOT / "resources" / "classifier"
STRENGTHS = (0.1, 0.3, 0.5, 0.7, 0.9)
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


def edits(model: str, count: int, work: Path) -> dict:
    """Every figure of the table for one model."""
    from core.jobs.edit import CompleteJob, InterpolateJob, VaryJob
    from core.jobs.sample import SampleJob
    from core.models.classifier import load_classifier

    classifier = load_classifier(CLASSIFIER)
    chairs = test_chairs(count + 1)
    rows = {"recon": [], "ends": [], "ends_noise": [], "middle_chair": [], "middle_chair_noise": [],
            "kept": [], "completion_best": [], "unconditional_best": [], "vary": {s: [] for s in STRENGTHS},
            "vary_chair": {s: [] for s in STRENGTHS}}
    started = time.perf_counter()
    for i in range(count):
        a, b = work / f"a{i}.npy", work / f"b{i}.npy"
        np.save(a, chairs[i])
        np.save(b, chairs[i + 1])
        options = {"class_name": "chair", "fmt": "npy"}
        for path, ends_key, middle_key in (("latent", "ends", "middle_chair"), ("noise", "ends_noise", "middle_chair_noise")):
            shapes = InterpolateJob(model, a, b, work / "i", n=INTERPOLATION_K, path=path, **options).run()["shapes"]
            first, last = chamfer(points_of(shapes[0]), chairs[i]), chamfer(points_of(shapes[-1]), chairs[i + 1])
            if path == "latent":
                rows["recon"].append(first)  # the latent path's first shape is the reconstruction itself
            rows[ends_key].append((first, last))
            rows[middle_key].append(is_chair(classifier, [shapes[INTERPOLATION_K // 2]])[0])
        for strength in STRENGTHS:
            shapes = VaryJob(model, a, strength, work / "v", n=VARIATIONS, seed=i, **options).run()["shapes"]
            rows["vary"][strength].append(np.mean([chamfer(points_of(s), chairs[i]) for s in shapes]))
            rows["vary_chair"][strength].extend(is_chair(classifier, shapes))
        half = work / f"half{i}.npy"
        kept = chairs[i][chairs[i][:, 0] <= 0]
        np.save(half, kept)
        shapes = CompleteJob(model, half, work / "c", n=COMPLETIONS, seed=i, **options).run()["shapes"]
        rows["kept"].append(np.mean([one_sided(kept, points_of(s)) for s in shapes]))
        rows["completion_best"].append(min(chamfer(points_of(s), chairs[i]) for s in shapes))
        sampled = SampleJob(model, COMPLETIONS, work / "s", class_name="chair", seed=i, fmt="npy",
                            previews=False).run()
        shapes = sampled["shapes"] if isinstance(sampled, dict) else sampled.shapes
        rows["unconditional_best"].append(min(_best_unconditional(model, s, chairs[i]) for s in shapes))
        print(f"{model}: chair {i + 1}/{count} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return _summary(model, count, rows, time.perf_counter() - started)


def _best_unconditional(model: str, shape, chair: np.ndarray) -> float:
    """Chamfer of an unconditional sample, in the unit-sphere frame like the chair (grids: their own [-1, 1]³
    frame rescaled to the chair's by the unit-sphere fit of their points)."""
    from core.shapes import Normalization

    points = points_of(shape).astype(np.float64)
    return chamfer(Normalization.unit_sphere(points).apply(points).astype(np.float32), chair)


def _summary(model: str, count: int, rows: dict, seconds: float) -> dict:
    """The table's numbers from the per-chair rows."""
    recon = float(np.mean(rows["recon"]))
    ends = np.asarray(rows["ends"])
    ends_noise = np.asarray(rows["ends_noise"])
    return {
        "model": model, "chairs": count, "seconds": round(seconds, 1),
        "recon_chamfer": recon,
        "interpolation_latent": {"first_over_recon": float(ends[:, 0].mean() / recon),
                                 "last_over_recon": float(ends[:, 1].mean() / recon),
                                 "middle_is_chair": float(np.mean(rows["middle_chair"]))},
        "interpolation_noise": {"first_over_recon": float(ends_noise[:, 0].mean() / recon),
                                "last_over_recon": float(ends_noise[:, 1].mean() / recon),
                                "middle_is_chair": float(np.mean(rows["middle_chair_noise"]))},
        "vary_chamfer": {str(s): float(np.mean(v)) for s, v in rows["vary"].items()},
        "vary_is_chair": {str(s): float(np.mean(v)) for s, v in rows["vary_chair"].items()},
        "completion_kept_over_recon": float(np.mean(rows["kept"]) / recon),
        "completion_median_best_of_8": float(np.median(rows["completion_best"])),
        "unconditional_median_best_of_8": float(np.median(rows["unconditional_best"])),
        "completion_over_unconditional": float(np.median(rows["completion_best"]) /
                                               np.median(rows["unconditional_best"])),
    }


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
    mesh = sub.add_parser("meshes")
    mesh.add_argument("--n", type=int, default=10)
    for p in (edit, mesh):
        p.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = edits(args.model, args.chairs, Path(folder)) if args.what == "edits" else meshes(args.n, Path(folder))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
