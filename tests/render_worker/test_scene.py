"""Framing: the camera distance keeps every bounding-box corner in frame, for every view."""

from __future__ import annotations

import numpy as np
import pytest

from render_worker.scene import FRAME_MARGIN, LENS_MM, SENSOR_MM, VIEW_DIRECTIONS, Bounds, fit_distance


@pytest.mark.parametrize("view", sorted(VIEW_DIRECTIONS))
@pytest.mark.parametrize("half", [(0.5, 0.5, 0.5), (0.9, 0.3, 0.1), (0.1, 0.2, 0.95)])
def test_every_box_corner_projects_inside_the_frame(view: str, half: tuple[float, float, float]) -> None:
    # GIVEN a normalised box and a view direction, with the camera looking at the origin
    from mathutils import Vector

    direction = Vector(VIEW_DIRECTIONS[view]).normalized()
    rotation = np.array((-direction).to_track_quat("-Z", "Y").to_matrix())
    # WHEN the fitting distance is computed
    distance = fit_distance(rotation, np.array(half))
    # THEN every corner, seen from there, lies within the sensor's half-width (and one touches the margin)
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) * half
    local = corners @ rotation
    depth = distance - local[:, 2]
    projected = np.abs(local[:, :2]) / depth[:, None] * LENS_MM
    assert projected.max() <= SENSOR_MM / 2 / FRAME_MARGIN + 1e-6
    assert projected.max() == pytest.approx(SENSOR_MM / 2 / FRAME_MARGIN)


def test_bounds_report_dimensions_and_the_normalised_half_extent() -> None:
    bounds = Bounds(low=(0.0, 0.0, 0.0), high=(30.0, 40.0, 0.0))
    assert bounds.dimensions == (30.0, 40.0, 0.0)
    assert bounds.half_extent_normalised == pytest.approx((0.6, 0.8, 0.0))
