"""The render worker image's contract with the task that runs it: RENDER_* variables, paths, user, names.

blueprints/fractional_renderer.py sets these and render_worker reads them, so both import this one module. It is
the image's own and imports nothing of ours: the blueprint may import it without cdktf reaching the worker, and the
worker's health check (every 30 s) does not pay for importing sdk.jobs and boto3. render_worker/Dockerfile repeats
the paths and the user (tests/render_worker/test_contract.py holds it to them).
"""

from typing import Literal, get_args

ENV_PREFIX = "RENDER_"
VIEWS_ENV = "RENDER_VIEWS"
SIZE_ENV = "RENDER_SIZE"
SAMPLES_ENV = "RENDER_SAMPLES"
DEVICE_ENV = "RENDER_DEVICE"
DENOISE_ENV = "RENDER_DENOISE"
MAX_INPUT_BYTES_ENV = "RENDER_MAX_INPUT_BYTES"
MAX_UNCOMPRESSED_BYTES_ENV = "RENDER_MAX_UNCOMPRESSED_BYTES"
MAX_TRIANGLES_ENV = "RENDER_MAX_TRIANGLES"
MAX_INSTANCES_ENV = "RENDER_MAX_INSTANCES"
TIMEOUT_ENV = "RENDER_TIMEOUT_S"
KERNEL_CACHE_DIR_ENV = "RENDER_KERNEL_CACHE_DIR"
HEARTBEAT_FILE_ENV = "RENDER_HEARTBEAT_FILE"

WORKER_USER = "10001:10001"
SCRATCH_PATH = "/scratch"
KERNEL_CACHE_PATH = "/var/cache/render-kernels"
HEARTBEAT_FILE = f"{SCRATCH_PATH}/render-worker.heartbeat"

ViewName = Literal["front", "back", "left", "right", "top", "bottom", "iso"]
DeviceName = Literal["auto", "optix", "cuda", "cpu"]
VIEW_NAMES: tuple[str, ...] = get_args(ViewName)
DEFAULT_VIEWS: tuple[ViewName, ...] = ("front", "back", "left", "right", "iso")
