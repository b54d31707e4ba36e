"""Rendering through the warm Blender child: outputs, report, colours, native formats and framing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from render_worker.config import RenderOptions
from render_worker.isolation import RenderProcess
from render_worker.report import RenderReport

FAST = RenderOptions(views=("front", "iso"), size=64, samples=2, denoise=False)


def test_a_3mf_renders_every_view_a_contact_sheet_and_a_report(renderer: RenderProcess, models, tmp_path: Path) -> None:
    # GIVEN a two-cube 3MF
    model = models.write_3mf(tmp_path / "cubes.3mf", items=[models.translation(0, 0, 0), models.translation(20, 0, 0)])
    # WHEN it is rendered with three views at 64 px
    options = FAST.model_copy(update={"views": ("front", "left", "iso")})
    report = renderer.render(model, tmp_path / "out", options)
    # THEN each view is a 64x64 PNG, the sheet holds them, and render.json matches the returned report
    out = tmp_path / "out"
    for view in ("front", "left", "iso"):
        assert Image.open(out / f"{view}.png").size == (64, 64)
    assert Image.open(out / "contact_sheet.png").size[0] == 3 * 64
    assert RenderReport.model_validate_json((out / "render.json").read_text(encoding="utf-8")) == report
    assert report.triangles == 24 and report.parts == 2
    assert report.device.backend == "cpu" and report.options.samples == 2
    assert report.dimensions.model_units == pytest.approx((30.0, 10.0, 10.0))
    assert {"validate", "load", "scene", "device", "render", "contact_sheet", "total"} <= set(report.timings_s)


def test_the_model_is_framed_inside_the_image(renderer: RenderProcess, models, tmp_path: Path) -> None:
    # GIVEN a long, flat model (3 cubes in a row) WHEN its front view is rendered
    model = models.write_3mf(tmp_path / "row.3mf", items=[models.translation(i * 10, 0, 0) for i in range(3)])
    renderer.render(model, tmp_path, FAST.model_copy(update={"views": ("front",), "size": 96}))
    # THEN the object (pixels differing from the background corner) spans most of the width but touches no edge
    image = np.asarray(Image.open(tmp_path / "front.png").convert("L"), dtype=float)
    mask = np.abs(image - image[0, 0]) > 12
    columns = np.flatnonzero(mask.any(axis=0))
    assert columns[-1] - columns[0] > 0.6 * image.shape[1]
    assert not mask[0].any() and not mask[-1].any() and not mask[:, 0].any() and not mask[:, -1].any()


def test_3mf_colours_reach_the_image(renderer: RenderProcess, models, tmp_path: Path) -> None:
    # GIVEN a cube coloured pure red WHEN rendered
    model = models.write_3mf(tmp_path / "red.3mf", colour=(255, 0, 0))
    renderer.render(model, tmp_path, FAST.model_copy(update={"views": ("iso",)}))
    # THEN the centre of the image is clearly red
    rgb = np.asarray(Image.open(tmp_path / "iso.png").convert("RGB"), dtype=float)
    r, g, b = rgb[24:40, 24:40].reshape(-1, 3).mean(axis=0)
    assert r > 2 * g and r > 2 * b


@pytest.mark.parametrize("writer", ["write_binary_stl", "write_obj", "write_ply"])
def test_stl_obj_and_ply_render_through_blenders_importers(
    renderer: RenderProcess, models, tmp_path: Path, writer: str
) -> None:
    # GIVEN the cube in a native Blender format
    model = getattr(models, writer)(tmp_path / f"cube.{writer.rsplit('_', 1)[1]}")
    # WHEN rendered THEN the 12 triangles are counted and the image is written
    report = renderer.render(model, tmp_path / "out", FAST.model_copy(update={"views": ("iso",)}))
    assert report.triangles == 12 and report.format == model.suffix[1:]
    assert (tmp_path / "out" / "iso.png").stat().st_size > 0


def test_one_child_serves_many_jobs(renderer: RenderProcess, models, tmp_path: Path) -> None:
    # GIVEN the warm child WHEN two jobs run back to back
    model = models.write_3mf(tmp_path / "cube.3mf")
    renderer.render(model, tmp_path / "a", FAST)
    pid, starts = renderer.pid, renderer.starts
    renderer.render(model, tmp_path / "b", FAST)
    # THEN the same process rendered both
    assert renderer.pid == pid and renderer.starts == starts


def test_the_real_cube_gears_sample_renders_all_five_views(
    renderer: RenderProcess, samples: Path, tmp_path: Path
) -> None:
    # GIVEN the 3MF Consortium's cube_gears WHEN its default five views render at small size
    options = RenderOptions(size=64, samples=1, denoise=False)
    report = renderer.render(samples / "cube_gears.3mf", tmp_path, options)
    # THEN all five PNGs exist and the report counts its 17 parts
    assert [v.name for v in report.views] == ["front", "back", "left", "right", "iso"]
    assert report.parts == 17 and report.triangles == 25692
    assert all((tmp_path / f"{v}.png").is_file() for v in ("front", "back", "left", "right", "iso"))


def test_validation_settings_use_blue_noise_fast_denoising_and_persistent_data() -> None:
    # GIVEN Blender's scene WHEN the validation-render settings are applied for the default options
    import bpy

    from render_worker.render import _configure

    options = RenderOptions()
    _configure(bpy.context.scene, options)
    # THEN the few samples are blue noise, denoised by fast OIDN with albedo and normal, and scene data persists
    cy = bpy.context.scene.cycles
    assert cy.sampling_pattern == "BLUE_NOISE" and cy.samples == options.samples
    assert (cy.use_denoising, cy.denoiser, cy.denoising_quality) == (True, "OPENIMAGEDENOISE", "FAST")
    assert cy.denoising_input_passes == "RGB_ALBEDO_NORMAL"
    assert bpy.context.scene.render.use_persistent_data
