"""The typed render report: what render.json holds, what crosses the child's pipe, and the job row's summary."""

import json

from render_worker.cycles import DeviceChoice
from render_worker.report import REPORT_NAME, RenderReport
from tests.literals import spelled_outside
from tests.render_worker.conftest import sample_report


def test_the_job_summary_names_the_device_views_triangles_time_and_the_report_file():
    # GIVEN a two-view CPU render WHEN summarised for the job row
    summary = sample_report().summary()
    # THEN it is the small result the job row stores, pointing at render.json for the rest
    assert summary == {"device": "cpu", "views": ["front.png", "iso.png"], "triangles": 12, "seconds": 2.0,
                       "report": REPORT_NAME}  # fmt: skip


def test_render_json_keeps_its_documented_keys_and_reads_back_as_the_samesample_report():
    # GIVEN a report WHEN written as render.json
    text = sample_report().model_dump_json(indent=2)
    data = json.loads(text)
    # THEN readers of the file find the keys they always found, as plain JSON
    assert list(data) == ["model", "format", "input_bytes", "triangles", "parts", "dimensions", "device", "options",
                          "views", "contact_sheet", "timings_s", "blender"]  # fmt: skip
    assert data["device"] == {"backend": "cpu", "devices": ["CPU"], "fallbacks": ["optix: no device"]}
    assert data["views"][1] == {"name": "iso", "file": "iso.png", "seconds": 0.7}
    assert data["options"]["views"] == ["front", "iso"] and data["contact_sheet"] == "contact_sheet.png"
    # AND the file reads back as the same report
    assert RenderReport.model_validate_json(text) == sample_report()


def test_a_report_sent_as_plain_data_from_the_blender_child_arrives_typed():
    # GIVEN the child's report as the plain data it sends over the pipe WHEN the parent validates it
    arrived = RenderReport.model_validate(sample_report().model_dump())
    # THEN fields are typed again (the device a DeviceChoice, views ViewReports)
    assert arrived == sample_report() and isinstance(arrived.device, DeviceChoice) and arrived.views[0].seconds == 0.5


def test_the_report_and_sheet_file_names_are_spelled_only_beside_thesample_report():
    # GIVEN the worker and its benchmark WHEN searched for the output file names THEN only report.py has them
    assert (
        spelled_outside("render_worker/report.py", ("render_worker", "bench"), r"^(render\.json|contact_sheet\.png)$")
        == []
    )
