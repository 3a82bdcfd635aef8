"""Viewport frame times: one shape drawn as points, as splat discs and with the Gaussian shader, in one run.

The app's viewport draws every splat frame as discs (live previews, orbiting) and redraws a resting view with
Filament's Gaussian shader (``app/viewport/render_thread.py``). For the same shapes (a ModelNet10 chair
splatted by the datasets' loader, 4,096 Gaussians, and the real 9,080-Gaussian 3DGS scene in shared/data)
this times, at the viewport's buffer size: building the drawable, the first frame after it and orbiting
frames, for the splat centres as a point cloud (the baseline), the disc drawing and the Gaussian shader.
Figures are seconds and ratios to the point frame of the same shape. Run:
``python -m core bench --only viewport`` (or ``python benchmarks/bench_viewport.py [--quick]``).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LATENT3D_SHARED_DATA", ROOT.parent / "shared" / "data"))
#: the viewport's render buffer (app/viewport/render_process.py RENDER_SIZE)
SIZE = (768, 576)
#: orbiting frames timed per drawing (a 5° turn each), after the first
ORBIT_FRAMES = 10
SCENE = "kacytran1122_try__point_cloud_iteration_7000.ply"


def _frames(shape, style, orbit_frames: int) -> dict[str, float]:
    """Build, first frame and mean orbiting frame of ``shape`` drawn with ``style``."""
    from core.render import OrbitCamera, build_geometry, framing_points
    from core.render.renderers import Renderers

    aspect = SIZE[0] / SIZE[1]
    camera = OrbitCamera(up=style.up).framing(framing_points(shape), aspect)
    start = time.perf_counter()
    drawable = build_geometry(shape, style)
    built = time.perf_counter()
    Renderers.draw(drawable, camera, aspect, style.point_size, (0.0, 0.0, 0.0), SIZE)
    first = time.perf_counter()
    for _ in range(orbit_frames):
        camera = camera.orbit(5.0, 0.0)
        Renderers.draw(drawable, camera, aspect, style.point_size, (0.0, 0.0, 0.0), SIZE)
    done = time.perf_counter()
    return {"build_s": round(built - start, 4), "first_frame_s": round(first - built, 4),
            "orbit_frame_s": round((done - first) / orbit_frames, 4)}


def run(quick: bool = False) -> dict:
    """Time the three drawings of each shape; ``quick`` orbits 3 frames instead of 10."""
    sys.path.insert(0, str(ROOT))
    from core.data import open_dataset
    from core.data.conversions import splats_to_points
    from core.data.representations import shape_splats
    from core.io import read_splats
    from core.render import Style
    from core.render.renderers import Renderers

    Renderers.legacy(SIZE)  # the legacy window first, as the viewport's process makes them
    Renderers.filament(SIZE)
    chair = open_dataset(SHARED_DATA / "modelnet10_pointclouds_1024").subset(classes=["chair"], split="test").load(0)
    shapes = {"chair splats (ModelNet10, loader)": shape_splats(chair),
              "3DGS scene": read_splats(SHARED_DATA / "gaussian_splats" / SCENE)}
    orbit = 3 if quick else ORBIT_FRAMES
    report = {"size": list(SIZE), "orbit_frames": orbit, "shapes": {}}
    for name, splats in shapes.items():
        timings = {"points": _frames(splats_to_points(splats), Style(), orbit),
                   "discs": _frames(splats, Style(splats="discs"), orbit),
                   "gaussian": _frames(splats, Style(splats="gaussian"), orbit)}
        base = timings["points"]["orbit_frame_s"]
        for drawing in ("discs", "gaussian"):
            timings[drawing]["orbit_frame_vs_points"] = round(timings[drawing]["orbit_frame_s"] / base, 2)
            timings[drawing]["frames_per_s"] = round(1.0 / timings[drawing]["orbit_frame_s"], 1)
        report["shapes"][name] = {"gaussians": len(splats), **timings}
    return report  # the renderers stay for the process (a legacy window cannot be made after a Filament one)


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
