"""The worker image's contract (render_worker/contract.py) is the one place its variables and paths are spelled."""

import re

from render_worker import contract as rc
from tests.literals import ROOT, spelled_outside


def test_no_render_variable_or_worker_path_is_spelled_outside_the_contract():
    # GIVEN the worker and the blueprints that deploy it
    # WHEN their string constants are searched for a RENDER_* name or one of the image's paths
    found = spelled_outside(
        "render_worker/contract.py",
        ("render_worker", "blueprints"),
        rf"\bRENDER_[A-Z]|{re.escape(rc.KERNEL_CACHE_PATH)}|render-worker\.heartbeat",
    )
    # THEN none is: both sides import render_worker.contract
    assert found == []


def test_the_dockerfile_declares_the_contracts_variables_paths_and_user():
    # GIVEN the worker image's Dockerfile, which cannot import the contract
    text = (ROOT / "render_worker" / "Dockerfile").read_text(encoding="utf-8")
    # THEN its defaults, volumes and user are the contract's
    assert f"{rc.KERNEL_CACHE_DIR_ENV}={rc.KERNEL_CACHE_PATH} " in text
    assert f"{rc.HEARTBEAT_FILE_ENV}={rc.HEARTBEAT_FILE} " in text
    assert f'VOLUME ["{rc.SCRATCH_PATH}", "{rc.KERNEL_CACHE_PATH}"]' in text
    uid, gid = rc.WORKER_USER.split(":")
    assert re.search(rf"useradd .*--uid {uid} .*--user-group", text) and uid == gid
