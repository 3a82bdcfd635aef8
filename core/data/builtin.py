"""The built-in procedural dataset: everyday objects assembled from primitives, deterministic by seed.

Each class is one function ``rng -> Mesh`` that draws its parameters (leg count and thickness, seat
height, backrest style, shade shape, handle shape, shelf count …) from ``rng``. Shape ``i`` of class
``c`` uses the generator ``default_rng([seed, c, i])``, so any shape can be rebuilt alone, in any
order, and the set is identical on every machine. Objects are y-up, in metres, standing on y = 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.data.primitives import box, cylinder, lathe, merge, rod, torus
from core.data.sources.base import ShapeRecord, ShapeSource
from core.errors import InputError
from core.shapes import Mesh

#: the name that stands for this dataset wherever a data path is accepted
BUILTIN_NAME = "builtin"
#: bump when any generator changes, so cached conversions of the old shapes are never reused
GENERATOR_VERSION = 1
DEFAULT_SEED = 0
DEFAULT_TRAIN_PER_CLASS = 40
DEFAULT_TEST_PER_CLASS = 10

Rng = np.random.Generator


def is_builtin_name(text: str) -> bool:
    """True for the names of this dataset (``builtin``, ``builtin:SEED``), which stand where a path would."""
    return text == BUILTIN_NAME or text.startswith(BUILTIN_NAME + ":")


def _legs_at(corners: list[tuple[float, float]], top: float, thickness: float, round_legs: bool) -> list[Mesh]:
    """Vertical legs from the floor to ``top`` under each (x, z) position."""
    if round_legs:
        return [cylinder((x, 0.0, z), thickness / 2, top, segments=12) for x, z in corners]
    return [box((x, top / 2, z), (thickness, top, thickness)) for x, z in corners]


def _corners(width: float, depth: float, inset: float) -> list[tuple[float, float]]:
    """The four (x, z) leg positions ``inset`` inside a width × depth rectangle centred on the origin."""
    hx, hz = width / 2 - inset, depth / 2 - inset
    return [(-hx, -hz), (hx, -hz), (-hx, hz), (hx, hz)]


def chair(rng: Rng) -> Mesh:
    """Four legs, a seat, a backrest (solid panel, vertical slats or horizontal rails), optional armrests."""
    width, depth = rng.uniform(0.40, 0.55), rng.uniform(0.38, 0.50)
    seat_height, seat_thick = rng.uniform(0.40, 0.50), rng.uniform(0.03, 0.06)
    leg = rng.uniform(0.025, 0.05)
    parts = _legs_at(_corners(width, depth, leg / 2), seat_height - seat_thick, leg, rng.random() < 0.4)
    parts.append(box((0, seat_height - seat_thick / 2, 0), (width, seat_thick, depth)))
    back_height = rng.uniform(0.30, 0.55)
    back_z = -depth / 2 + leg / 2
    style = rng.integers(3)
    if style == 0:  # solid panel
        parts.append(box((0, seat_height + back_height / 2, back_z), (width, back_height, leg)))
    else:  # two posts carrying slats or rails
        for x in (-width / 2 + leg / 2, width / 2 - leg / 2):
            parts.append(box((x, seat_height + back_height / 2, back_z), (leg, back_height, leg)))
        top_rail = rng.uniform(0.05, 0.12)
        parts.append(box((0, seat_height + back_height - top_rail / 2, back_z), (width, top_rail, leg)))
        if style == 1:
            slats = int(rng.integers(2, 6))
            for x in np.linspace(-width / 2, width / 2, slats + 2)[1:-1]:
                parts.append(box((x, seat_height + (back_height - top_rail) / 2, back_z),
                                 (0.03, back_height - top_rail, leg * 0.6)))
        else:
            rails = int(rng.integers(1, 4))
            for y in np.linspace(seat_height, seat_height + back_height - top_rail, rails + 2)[1:-1]:
                parts.append(box((0, y, back_z), (width, 0.03, leg * 0.6)))
    if rng.random() < 0.3:
        arm_height = rng.uniform(0.18, 0.25)
        for x in (-width / 2 + leg / 2, width / 2 - leg / 2):
            parts.append(box((x, seat_height + arm_height / 2, depth / 2 - leg / 2), (leg, arm_height, leg)))
            parts.append(box((x, seat_height + arm_height, 0), (leg * 1.5, 0.03, depth)))
    return merge(parts)


def table(rng: Rng) -> Mesh:
    """A rectangular or round top on four legs (optionally with aprons) or on a central pedestal."""
    height, thick = rng.uniform(0.68, 0.78), rng.uniform(0.025, 0.05)
    leg = rng.uniform(0.04, 0.08)
    round_top = rng.random() < 0.35
    if round_top:
        radius = rng.uniform(0.40, 0.60)
        parts = [cylinder((0, height - thick, 0), radius, thick, segments=32)]
        width = depth = radius * np.sqrt(2)
    else:
        width, depth = rng.uniform(0.9, 1.6), rng.uniform(0.6, 0.9)
        parts = [box((0, height - thick / 2, 0), (width, thick, depth))]
    if round_top and rng.random() < 0.6:  # pedestal: column on a foot
        parts.append(cylinder((0, 0, 0), rng.uniform(0.22, 0.32), 0.04, radius_top=0.06))
        parts.append(cylinder((0, 0.04, 0), leg / 2 + 0.01, height - thick - 0.04))
        return merge(parts)
    inset = leg / 2 + rng.uniform(0.0, 0.08)
    top = height - thick
    parts += _legs_at(_corners(width, depth, inset), top, leg, rng.random() < 0.4)
    if rng.random() < 0.5:  # aprons under the top
        apron = rng.uniform(0.06, 0.12)
        for z in (-depth / 2 + inset, depth / 2 - inset):
            parts.append(box((0, top - apron / 2, z), (width - 2 * inset, apron, 0.02)))
        for x in (-width / 2 + inset, width / 2 - inset):
            parts.append(box((x, top - apron / 2, 0), (0.02, apron, depth - 2 * inset)))
    return merge(parts)


def stool(rng: Rng) -> Mesh:
    """A round or square seat on three or four splayed legs, often with a foot ring; no backrest."""
    height = rng.uniform(0.45, 0.78)
    thick = rng.uniform(0.03, 0.05)
    seat = rng.uniform(0.15, 0.21)
    legs = int(rng.choice([3, 4]))
    splay = rng.uniform(0.0, 0.08)
    radius_leg = rng.uniform(0.012, 0.022)
    if rng.random() < 0.65:
        parts = [cylinder((0, height - thick, 0), seat, thick, segments=32)]
    else:
        parts = [box((0, height - thick / 2, 0), (2 * seat, thick, 2 * seat))]
    angles = np.arange(legs) * 2 * np.pi / legs + np.pi / 4
    top_r, foot_r = seat * 0.7, seat * 0.7 + splay
    for a in angles:
        direction = np.array([np.cos(a), 0.0, np.sin(a)])
        parts.append(rod(direction * foot_r, direction * top_r + [0, height - thick, 0], radius_leg))
    if rng.random() < 0.6:
        ring_y = rng.uniform(0.25, 0.4) * height
        ring_r = foot_r + (top_r - foot_r) * ring_y / (height - thick)
        parts.append(torus((0, ring_y, 0), ring_r, radius_leg * 0.7, segments=32, tube_segments=8))
    return merge(parts)


def lamp(rng: Rng) -> Mesh:
    """A base, a pole (desk or floor height) and a shade: cone, drum or dome, open at the bottom."""
    floor_lamp = rng.random() < 0.4
    pole_height = rng.uniform(1.2, 1.6) if floor_lamp else rng.uniform(0.30, 0.50)
    base_r = rng.uniform(0.12, 0.18) if floor_lamp else rng.uniform(0.07, 0.11)
    base_h = rng.uniform(0.02, 0.05)
    parts = [cylinder((0, 0, 0), base_r, base_h, radius_top=base_r * rng.uniform(0.6, 1.0), segments=32),
             cylinder((0, base_h, 0), rng.uniform(0.008, 0.015), pole_height, segments=12)]
    shade_h = rng.uniform(0.15, 0.30) if floor_lamp else rng.uniform(0.10, 0.20)
    shade_bottom = base_h + pole_height - shade_h * rng.uniform(0.3, 0.6)
    bottom_r = rng.uniform(0.6, 1.0) * shade_h * 1.2
    shape = rng.integers(3)
    if shape == 0:  # cone / frustum
        top_r = bottom_r * rng.uniform(0.2, 0.6)
        radii, heights = [bottom_r, top_r, 0.0], [0.0, shade_h, shade_h]
    elif shape == 1:  # drum
        radii, heights = [bottom_r, bottom_r, 0.0], [0.0, shade_h, shade_h]
    else:  # dome
        t = np.linspace(0.0, np.pi / 2, 9)
        radii, heights = bottom_r * np.cos(t), shade_h * np.sin(t)
    parts.append(lathe(radii, heights, segments=32, center=(0, shade_bottom, 0)))
    parts.append(torus((0, shade_bottom + 0.25 * shade_h, 0), 0.02, 0.012, segments=12, tube_segments=8))  # bulb
    return merge(parts)


def mug(rng: Rng) -> Mesh:
    """A hollow, possibly tapered cup (double wall + bottom) with a round or tall D-shaped handle."""
    radius, height = rng.uniform(0.035, 0.05), rng.uniform(0.08, 0.12)
    top_r = radius * rng.uniform(1.0, 1.15)
    wall = rng.uniform(0.003, 0.006)
    body = lathe([0.0, radius, top_r, top_r - wall, radius - wall, 0.0],
                 [0.0, 0.0, height, height, wall, wall], segments=32)
    handle_r = rng.uniform(0.022, 0.035)
    tube = rng.uniform(0.005, 0.009)
    handle = torus((0, 0, 0), handle_r, tube, arc=np.pi, start_angle=-np.pi / 2, plane="xy",
                   segments=16, tube_segments=8)
    stretch = rng.uniform(1.0, 1.5)  # > 1: a tall D-shaped handle
    mid_r = (radius + top_r) / 2
    vertices = handle.vertices * [1.0, stretch, 1.0] + [mid_r - wall, height * rng.uniform(0.45, 0.55), 0]
    return merge([body, Mesh(vertices, handle.faces)])


def shelf(rng: Rng) -> Mesh:
    """A bookcase: two sides, top and bottom boards, 1–5 inner shelves, optional back and plinth."""
    width, height = rng.uniform(0.6, 1.2), rng.uniform(0.8, 2.0)
    depth, board = rng.uniform(0.25, 0.40), rng.uniform(0.018, 0.03)
    plinth = rng.uniform(0.05, 0.1) if rng.random() < 0.5 else 0.0
    parts = [box((x, height / 2, 0), (board, height, depth)) for x in (-width / 2 + board / 2, width / 2 - board / 2)]
    inner = width - 2 * board
    levels = np.linspace(plinth + board / 2, height - board / 2, int(rng.integers(3, 8)))
    parts += [box((0, y, 0), (inner, board, depth)) for y in levels]
    if plinth:
        parts.append(box((0, plinth / 2, depth / 2 - board), (inner, plinth, board)))
    if rng.random() < 0.6:
        parts.append(box((0, height / 2, -depth / 2 + 0.005), (inner, height, 0.01)))
    return merge(parts)


def sofa(rng: Rng) -> Mesh:
    """A padded base with 1–3 seat cushions, a back, two arms of varying height and short legs."""
    width, depth = rng.uniform(1.4, 2.2), rng.uniform(0.8, 1.0)
    leg_h = rng.uniform(0.03, 0.12)
    base_h = rng.uniform(0.18, 0.25)
    arm_w, arm_h = rng.uniform(0.08, 0.25), rng.uniform(0.55, 0.72)
    back_d, back_h = rng.uniform(0.15, 0.25), rng.uniform(0.70, 0.90)
    parts = _legs_at(_corners(width, depth, 0.05), leg_h, 0.05, False)
    parts.append(box((0, leg_h + base_h / 2, 0), (width, base_h, depth)))
    parts.append(box((0, leg_h + back_h / 2, -depth / 2 + back_d / 2), (width, back_h, back_d)))
    for x in (-width / 2 + arm_w / 2, width / 2 - arm_w / 2):
        parts.append(box((x, leg_h + arm_h / 2, 0), (arm_w, arm_h, depth)))
    cushions = int(rng.integers(1, 4))
    inner = width - 2 * arm_w
    cushion_h = rng.uniform(0.10, 0.16)
    for x in np.linspace(-inner / 2, inner / 2, cushions + 1)[:-1] + inner / (2 * cushions):
        parts.append(box((x, leg_h + base_h + cushion_h / 2, back_d / 2),
                         (inner / cushions - 0.01, cushion_h, depth - back_d)))
    return merge(parts)


def bed(rng: Rng) -> Mesh:
    """A frame on legs, a mattress, a headboard, an optional footboard and one or two pillows."""
    width, length = rng.choice([0.9, 1.2, 1.4, 1.6, 1.8]) + rng.uniform(0, 0.1), rng.uniform(1.95, 2.15)
    leg_h, frame_h = rng.uniform(0.05, 0.2), rng.uniform(0.15, 0.3)
    mattress_h = rng.uniform(0.15, 0.25)
    parts = _legs_at(_corners(width, length, 0.04), leg_h, 0.06, rng.random() < 0.3)
    parts.append(box((0, leg_h + frame_h / 2, 0), (width, frame_h, length)))
    top = leg_h + frame_h
    parts.append(box((0, top + mattress_h / 2, 0.02), (width - 0.04, mattress_h, length - 0.08)))
    head_h = rng.uniform(0.8, 1.3)
    parts.append(box((0, head_h / 2, -length / 2 - 0.03), (width + 0.04, head_h, 0.06)))
    if rng.random() < 0.5:
        foot_h = rng.uniform(0.4, 0.7)
        parts.append(box((0, foot_h / 2, length / 2 + 0.03), (width + 0.04, foot_h, 0.06)))
    pillows = 1 if width < 1.3 else 2
    pillow_w = (width - 0.1) / pillows - 0.05
    for x in np.linspace(-width / 2, width / 2, 2 * pillows + 1)[1::2]:
        parts.append(box((x, top + mattress_h + 0.06, -length / 2 + 0.25), (pillow_w, 0.12, 0.35)))
    return merge(parts)


def bench(rng: Rng) -> Mesh:
    """A long seat on slab ends or four legs, sometimes with a slatted backrest."""
    length, depth = rng.uniform(1.0, 1.8), rng.uniform(0.30, 0.45)
    height, thick = rng.uniform(0.40, 0.48), rng.uniform(0.03, 0.06)
    top = height - thick
    parts = [box((0, height - thick / 2, 0), (length, thick, depth))]
    inset = rng.uniform(0.05, 0.2)
    if rng.random() < 0.5:  # slab ends
        for x in (-length / 2 + inset, length / 2 - inset):
            parts.append(box((x, top / 2, 0), (0.04, top, depth * 0.9)))
    else:
        parts += _legs_at(_corners(length - 2 * inset, depth, 0.03), top, 0.05, rng.random() < 0.4)
    if rng.random() < 0.4:
        back_h = rng.uniform(0.30, 0.45)
        for x in (-length / 2 + inset, length / 2 - inset):
            parts.append(box((x, height + back_h / 2, -depth / 2 + 0.02), (0.04, back_h, 0.04)))
        for y in np.linspace(height + 0.08, height + back_h - 0.04, int(rng.integers(2, 4))):
            parts.append(box((0, y, -depth / 2 + 0.02), (length, 0.06, 0.025)))
    return merge(parts)


#: class name -> generator, in label order
GENERATORS: dict[str, Callable[[Rng], Mesh]] = {
    "chair": chair, "table": table, "stool": stool, "lamp": lamp, "mug": mug, "shelf": shelf,
    "sofa": sofa, "bed": bed, "bench": bench,
}
CLASSES: list[str] = list(GENERATORS)


def make_shape(class_name: str, index: int, seed: int = DEFAULT_SEED) -> Mesh:
    """Shape ``index`` of ``class_name`` for ``seed``: independent of every other shape, so order never matters."""
    class_index = CLASSES.index(class_name)
    return GENERATORS[class_name](np.random.default_rng([seed, class_index, index]))


@dataclass
class BuiltinSource(ShapeSource):
    """The procedural set as a dataset: shapes are generated on load, nothing is read from disk."""

    seed: int = DEFAULT_SEED

    def load(self, record: ShapeRecord) -> Mesh:
        """Generate the record's mesh."""
        return make_shape(record.class_name, record.row, self.seed)

    def identity(self, source: str) -> str:
        """Generator version and seed: they alone decide every vertex."""
        return f"builtin generator v{GENERATOR_VERSION} seed {self.seed} {source}"


def open_builtin(seed: int = DEFAULT_SEED, train_per_class: int = DEFAULT_TRAIN_PER_CLASS,
                 test_per_class: int = DEFAULT_TEST_PER_CLASS) -> BuiltinSource:
    """The built-in set: ``train_per_class`` + ``test_per_class`` shapes of every class."""
    if seed < 0 or train_per_class < 1 or test_per_class < 0:
        raise InputError(BUILTIN_NAME, f"need seed >= 0, train_per_class >= 1 and test_per_class >= 0, "
                                       f"got {seed}, {train_per_class}, {test_per_class}")
    records = [ShapeRecord(f"{name}_{i:04d}", name, "train" if i < train_per_class else "test", f"builtin/{name}", i)
               for name in CLASSES for i in range(train_per_class + test_per_class)]
    return BuiltinSource(BUILTIN_NAME, "mesh", list(CLASSES), records, seed=seed)
