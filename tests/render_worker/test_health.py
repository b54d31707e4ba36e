"""The container health check follows the job loop: each stamp bounds its step, and a step that overruns its bound
(a stuck loop, a Blender child hung past the job's render timeout) makes the container unhealthy."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from render_worker.config import Limits, RenderOptions, WorkerSettings
from render_worker.health import AFTER_JOB_S, SLACK_S, Liveness, check
from render_worker.isolation import START_TIMEOUT_S
from render_worker.report import RenderReport
from render_worker.worker import RenderHandler, StampingWorker
from sdk.jobs import JobContext, WorkerConfig
from tests.render_worker.conftest import sample_report

NOW = 1_000_000.0


def test_a_missing_or_torn_stamp_is_unhealthy(tmp_path: Path) -> None:
    # GIVEN no health file, then one that is not a stamp
    path = tmp_path / "hb"
    missing = check(path, 60, now=NOW)
    path.write_text("{", encoding="utf-8")
    torn = check(path, 60, now=NOW)
    # THEN both are unhealthy and say why
    assert not missing[0] and "no readable health stamp" in missing[1]
    assert not torn[0]


def test_a_polling_stamp_is_fresh_for_its_bound_or_max_age_whichever_is_longer(tmp_path: Path) -> None:
    # GIVEN the loop stamped "polling" with a 80 s bound at NOW
    path = tmp_path / "hb"
    Liveness(path, clock=lambda: NOW).stamp("polling the queue", 80)
    # WHEN checked with --max-age 60 at several ages
    ages = {age: check(path, 60, now=NOW + age)[0] for age in (10, 79, 81)}
    # THEN it is healthy within the bound and unhealthy past it; a longer --max-age widens it
    assert ages == {10: True, 79: True, 81: False}
    assert check(path, 120, now=NOW + 81)[0]
    assert "polling the queue since 81s, longer than its 80s bound" in check(path, 60, now=NOW + 81)[1]


class _HungRenderer:
    """Stands in for RenderProcess whose Blender child hangs: it checks health as the container would, then."""

    def __init__(self, path: Path, bound: float) -> None:
        self.path, self.bound = path, bound
        self.seen: Any = None

    def render(self, model: Path, out_dir: Path, options: RenderOptions) -> dict:
        at = json.loads(self.path.read_text(encoding="utf-8"))["at"]
        self.seen = (check(self.path, 60, now=at + self.bound - 1), check(self.path, 60, now=at + self.bound + 1))
        raise TimeoutError("still hung")


def _context(tmp_path: Path) -> JobContext:
    model = tmp_path / "model.stl"
    model.write_text("solid x\nendsolid x\n", encoding="utf-8")
    logger = logging.LoggerAdapter(logging.getLogger("test"), {})
    return JobContext("j1", "render", {}, {"model.stl": model}, tmp_path / "out", 1, logger)


def test_a_render_hung_past_the_jobs_timeout_makes_the_container_unhealthy(tmp_path: Path) -> None:
    # GIVEN a handler whose render hangs, with a 100 s render timeout
    settings = WorkerSettings(limits=Limits(render_timeout_s=100), heartbeat_file=tmp_path / "hb")
    bound = START_TIMEOUT_S + 100 + SLACK_S
    hung = _HungRenderer(settings.heartbeat_file, bound)
    handler = RenderHandler(hung, settings, Liveness(settings.heartbeat_file))  # type: ignore[arg-type]
    # WHEN it handles a job
    with pytest.raises(TimeoutError):
        handler(_context(tmp_path))
    # THEN while rendering, health passes up to Blender's start-up + the render timeout + slack, and fails after
    (inside, past) = hung.seen
    assert inside[0] and "rendering job j1" in inside[1]
    assert not past[0]


def test_a_finished_render_gives_the_upload_its_own_bound(tmp_path: Path) -> None:
    # GIVEN a handler whose render returns at once
    class Quick:
        def render(self, model: Path, out_dir: Path, options: RenderOptions) -> RenderReport:
            return sample_report()

    path = tmp_path / "hb"
    handler = RenderHandler(Quick(), WorkerSettings(heartbeat_file=path), Liveness(path))  # type: ignore[arg-type]
    # WHEN it handles a job
    handler(_context(tmp_path))
    # THEN the newest stamp is the finishing step, bounded by the upload allowance
    stamp = json.loads(path.read_text(encoding="utf-8"))
    assert (stamp["doing"], stamp["within"]) == ("finishing job j1", AFTER_JOB_S + SLACK_S)


def test_the_job_loop_stamps_before_each_poll(tmp_path: Path, monkeypatch) -> None:
    # GIVEN the render worker's loop (its AWS clients in a region) with its receive step replaced by an empty queue
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    config = WorkerConfig(queue_url="https://sqs.us-east-1.amazonaws.com/1/q", table_name="t", bucket="b",
                          wait_seconds=20)  # fmt: skip
    path = tmp_path / "hb"
    worker = StampingWorker(RenderHandler(None, WorkerSettings()), config, Liveness(path))  # type: ignore[arg-type]
    seen = []
    monkeypatch.setattr(worker, "_receive", lambda: seen.append(json.loads(path.read_text("utf-8"))) or [])
    monkeypatch.setattr(worker, "_sweep_dead_letters", lambda: None)
    # WHEN it runs one cycle
    assert worker.run_once() is False
    # THEN the stamp was written before the poll, bounded by the SQS wait plus slack
    assert [(s["doing"], s["within"]) for s in seen] == [("polling the queue", 20 + SLACK_S)]
