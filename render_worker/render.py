"""One render job inside the Blender process: load, frame, select the device, render the views, write outputs.

Outputs in `out_dir`: `<view>.png` per view, `contact_sheet.png`, `render.json`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from render_worker import cycles, meshes, scene
from render_worker.config import Limits, RenderOptions
from render_worker.contact_sheet import write_contact_sheet
from render_worker.inputs import inspect_model
from render_worker.report import REPORT_NAME, SHEET_NAME, Dimensions, RenderReport, ViewReport


class Timer:
    """Collects wall-clock seconds per named phase."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = round(self.phases.get(name, 0.0) + time.perf_counter() - start, 4)


def render_model(model_path: Path, out_dir: Path, options: RenderOptions, limits: Limits) -> RenderReport:
    """Render `options.views` of the model into `out_dir` and return the report also written to render.json."""
    timer = Timer()
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    with timer.phase("validate"):
        checked = inspect_model(model_path, limits)
    with timer.phase("load"):
        scene.reset()
        objects, info = _load(checked.path, checked.format, limits)
    with timer.phase("scene"):
        bounds = scene.normalise(objects)
        camera = scene.add_studio()
        import bpy

        _configure(bpy.context.scene, options)
    with timer.phase("device"):
        choice = cycles.apply_device(bpy.context.scene, options.device)
    views = [
        _render_view(bpy.context.scene, camera, view, bounds.half_extent_normalised, out_dir, timer)
        for view in options.views
    ]
    with timer.phase("contact_sheet"):
        write_contact_sheet([out_dir / v.file for v in views], options.views, out_dir / SHEET_NAME)
    report = RenderReport(
        model=model_path.name,
        format=checked.format,
        input_bytes=checked.size_bytes,
        triangles=meshes.triangle_count(objects),
        parts=len(objects),
        dimensions=Dimensions(model_units=bounds.dimensions, **info),
        device=choice,
        options=options,
        views=tuple(views),
        contact_sheet=SHEET_NAME,
        timings_s={**timer.phases, "total": round(time.perf_counter() - started, 4)},
        blender=bpy.app.version_string,
    )
    (out_dir / REPORT_NAME).write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return report


def _load(path: Path, fmt: str, limits: Limits) -> tuple[list[Any], dict[str, Any]]:
    if fmt == "3mf":
        model = meshes.read_3mf(path, limits)
        coloured = any(p.corner_colors is not None for p in model.parts)
        objects = meshes.add_parts(
            model.parts, scene.studio_material(False), scene.studio_material(True) if coloured else None
        )
        return objects, {"unit_mm": model.unit_mm, "warnings": tuple(model.warnings)}
    objects = meshes.import_native(path, fmt, limits)
    for obj in objects:
        obj.data.materials.clear()
        obj.data.materials.append(scene.studio_material(False))
    return objects, {"unit_mm": None, "warnings": ()}


def _configure(bl_scene: Any, options: RenderOptions) -> None:
    """Validation-render settings: few blue-noise samples, short light paths, fast OIDN, reused scene data."""
    bl_scene.render.engine = "CYCLES"
    cy = bl_scene.cycles
    cy.samples = options.samples
    # Blue noise spreads the error of a few samples evenly, which OIDN removes best: at 2 samples SSIM against
    # the 1024-sample reference rises from 0.975 (Sobol) to 0.981 (docs/benchmarks.md).
    cy.sampling_pattern = "BLUE_NOISE"
    cy.use_adaptive_sampling = True
    cy.adaptive_threshold = options.noise_threshold
    cy.max_bounces, cy.diffuse_bounces, cy.glossy_bounces = 2, 1, 1
    cy.transmission_bounces = cy.transparent_max_bounces = cy.volume_bounces = 0
    cy.caustics_reflective = cy.caustics_refractive = False
    cy.use_light_tree = False
    cy.use_denoising = options.denoise
    cy.denoiser = "OPENIMAGEDENOISE"
    cy.denoising_prefilter = "FAST"
    cy.denoising_quality = "FAST"
    cy.denoising_input_passes = "RGB_ALBEDO_NORMAL"  # albedo alone saves ~12% CPU but costs ~0.01 SSIM
    render = bl_scene.render
    render.resolution_x = render.resolution_y = options.size
    render.resolution_percentage = 100
    render.use_persistent_data = True  # keeps the BVH between the views of a job
    render.image_settings.file_format = "PNG"
    render.image_settings.color_mode = "RGB"
    bl_scene.view_settings.view_transform = "Standard"


def _render_view(
    bl_scene: Any, camera: Any, view: str, half_extent: tuple[float, float, float], out_dir: Path, timer: Timer
) -> ViewReport:
    import bpy

    start = time.perf_counter()
    with timer.phase("render"):
        scene.aim(camera, view, half_extent)
        bl_scene.render.filepath = str(out_dir / f"{view}.png")
        bpy.ops.render.render(write_still=True)
    return ViewReport(name=view, file=f"{view}.png", seconds=round(time.perf_counter() - start, 4))
