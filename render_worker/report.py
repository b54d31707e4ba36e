"""What one render returns and writes as render.json: a typed report, so callers read fields, not dict keys."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from render_worker.config import RenderOptions
from render_worker.cycles import DeviceChoice

REPORT_NAME = "render.json"
SHEET_NAME = "contact_sheet.png"


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Dimensions(_Report):
    """The model's size after loading."""

    model_units: tuple[float, float, float] = Field(description="Bounding box in the file's units. Required.")
    unit_mm: float | None = Field(default=None, description="Millimetres per file unit (3MF only). Default None.")
    warnings: tuple[str, ...] = Field(default=(), description="What did not render as authored. Default none.")


class ViewReport(_Report):
    """One rendered view."""

    name: str = Field(description="View name, e.g. iso. Required.")
    file: str = Field(description="PNG file name in the output folder. Required.")
    seconds: float = Field(description="Wall-clock render time of this view. Required.")


class RenderReport(_Report):
    """One job's render: input, device, options, views and phase timings (written as render.json)."""

    model: str = Field(description="Model file name. Required.")
    format: str = Field(description="Model format: 3mf, stl, obj or ply. Required.")
    input_bytes: int = Field(description="Model file size. Required.")
    triangles: int = Field(description="Triangles rendered, instances counted. Required.")
    parts: int = Field(description="Mesh objects in the scene. Required.")
    dimensions: Dimensions = Field(description="Size and load warnings. Required.")
    device: DeviceChoice = Field(description="Cycles backend, devices and the fallbacks passed over. Required.")
    options: RenderOptions = Field(description="The options rendered with. Required.")
    views: tuple[ViewReport, ...] = Field(description="Views in render order. Required.")
    contact_sheet: str = Field(default=SHEET_NAME, description=f"Contact sheet file name. Default {SHEET_NAME}.")
    timings_s: dict[str, float] = Field(description="Seconds per phase, and total. Required.")
    blender: str = Field(description="Blender version string. Required.")

    @property
    def total_seconds(self) -> float:
        return self.timings_s["total"]

    def summary(self) -> dict[str, Any]:
        """The small result stored on the job row; the full report is render.json in the outputs."""
        return {
            "device": self.device.backend,
            "views": [v.file for v in self.views],
            "triangles": self.triangles,
            "seconds": self.total_seconds,
            "report": REPORT_NAME,
        }
