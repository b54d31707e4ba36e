"""FractionalGpuRenderer: spec validation, derived sizing, and each emitted property on the example stacks."""

from typing import Any

import pytest
from pydantic import ValidationError

from blueprints.fractional_renderer import (
    FallbackSpec,
    FractionalRendererSpec,
    RenderSettings,
    RenderWorkerSpec,
)
from render_worker.config import WorkerSettings
from sdk.specs import CapacitySpec, WarmPoolSpec

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/render-worker:1"


def spec(**overrides: Any) -> FractionalRendererSpec:
    fields: dict[str, Any] = {"name": "render", "worker": RenderWorkerSpec(image=IMAGE), **overrides}
    return FractionalRendererSpec(**fields)


def types(*names: str, **capacity: Any) -> CapacitySpec:
    return CapacitySpec(instance_types=names, **capacity)


# -- spec: defaults and derived sizing -----------------------------------------------------------------------


def test_the_default_task_takes_the_whole_partition_and_host_of_a_g6f_xlarge():
    # GIVEN a renderer with only an image WHEN its container is resolved
    container = spec().container
    # THEN it asks for the g6f.xlarge partition (1/8 L4) with the host's 4 vCPU and its placeable memory
    assert (container.gpu, container.cpu) == (0.125, 4096)
    assert 15000 < container.memory_mib <= 15714
    assert spec().tasks_per_host == 1


def test_an_eighth_of_an_l4_on_a_g6f_4xlarge_places_four_tasks_with_a_quarter_of_the_host_each():
    # GIVEN a 0.125 GPU share on a g6f.4xlarge (half an L4, 16 vCPU)
    renderer = spec(capacity=types("g6f.4xlarge"), worker=RenderWorkerSpec(image=IMAGE, gpu=0.125))
    # THEN tasks per host follow the GPU share and the vCPU/memory defaults follow it too
    assert renderer.tasks_per_host == 4
    assert renderer.container.cpu == 4096


def test_explicit_cpu_and_memory_win_over_the_host_share_and_bound_tasks_per_host():
    # GIVEN 0.125 GPU per task on g6f.4xlarge but 8 vCPU per task
    renderer = spec(capacity=types("g6f.4xlarge"), worker=RenderWorkerSpec(image=IMAGE, gpu=0.125, cpu=8192))
    # THEN vCPU, not GPU, limits a host to two tasks
    assert (renderer.container.cpu, renderer.tasks_per_host) == (8192, 2)


def test_the_fallback_container_asks_for_a_whole_gpu_sized_to_its_own_hosts():
    # GIVEN a g6f.4xlarge renderer with a g6.xlarge fallback
    renderer = spec(capacity=types("g6f.4xlarge"), fallback=FallbackSpec())
    # THEN the primary asks for half an L4 and 16 vCPU; the fallback for one L4 and the g6.xlarge's 4 vCPU
    assert (renderer.container.gpu, renderer.container.cpu) == (0.5, 16384)
    assert (renderer.fallback_container.gpu, renderer.fallback_container.cpu) == (1, 4096)
    assert renderer.fallback_container.memory_mib < renderer.container.memory_mib


def test_render_settings_reach_the_worker_as_variables_it_accepts():
    # GIVEN render defaults on the spec
    renderer = spec(render=RenderSettings(views=("front", "top"), size=1024, samples=64, device="optix"))
    # WHEN the worker reads the task's environment
    settings = WorkerSettings.from_env(renderer.container.environment)
    # THEN it renders with exactly those defaults and the task's kernel cache and heartbeat paths
    assert settings.defaults.views == ("front", "top")
    assert (settings.defaults.size, settings.defaults.samples, settings.defaults.device) == (1024, 64, "optix")
    assert str(settings.kernel_cache_dir) == "/var/cache/render-kernels"
    assert str(settings.heartbeat_file).startswith("/scratch/")


def test_the_container_runs_serve_as_non_root_on_a_read_only_root_with_scratch_and_kernel_cache():
    container = spec().container
    assert container.command == ("serve",)  # the image's ENTRYPOINT is python -m render_worker
    assert container.user == "10001:10001" and container.read_only_root is True
    assert "/scratch" in container.scratch_paths
    assert [v.container_path for v in container.volumes] == ["/var/cache/render-kernels"]
    assert container.health_check is not None and "health" in container.health_check.command


# -- spec: bad input -----------------------------------------------------------------------------------------

BAD_SPECS: list[tuple[str, dict[str, Any], str]] = [
    (
        "a whole GPU on g6f.xlarge",
        {"worker": RenderWorkerSpec(image=IMAGE, gpu=1)},
        "worker.gpu: 1 GPU asks for whole GPUs but g6f.xlarge is a fractional size",
    ),
    (
        "half a GPU on g6f.xlarge",
        {"worker": RenderWorkerSpec(image=IMAGE, gpu=0.5)},
        "worker.gpu: 0.5 GPU is more than g6f.xlarge offers (0.125)",
    ),
    (
        "memory over the size",
        {"worker": RenderWorkerSpec(image=IMAGE, memory_mib=20000)},
        "worker.memory_mib: 20000 MiB is more than ECS can place on g6f.xlarge",
    ),
    (
        "cpu over the size",
        {"worker": RenderWorkerSpec(image=IMAGE, cpu=8192)},
        "worker.cpu: 8192 units is more than g6f.xlarge has",
    ),
    (
        "half a GPU where g6f.large is in the list",
        {"capacity": types("g6f.4xlarge", "g6f.large"), "worker": RenderWorkerSpec(image=IMAGE, gpu=0.5)},
        "worker.gpu: 0.5 GPU is more than g6f.large offers",
    ),
    (
        "fractional and whole-GPU sizes mixed",
        {"capacity": types("g6f.xlarge", "g6.xlarge")},
        "capacity.instance_types: mixes fractional and whole-GPU sizes",
    ),
    (
        "a GPU without RT cores",
        {"capacity": types("p4d.24xlarge")},
        "capacity.instance_types: p4d.24xlarge",
    ),
    (
        "an unknown size",
        {"capacity": types("g6f.8xlarge")},
        "capacity.instance_types: 'g6f.8xlarge' is not in the GPU catalog",
    ),
    (
        "a fractional fallback",
        {"capacity": types("g6f.4xlarge"), "fallback": FallbackSpec(instance_types=("g6f.2xlarge",))},
        "fallback.instance_types: g6f.2xlarge are fractional",
    ),
    (
        "a fallback behind whole-GPU primaries",
        {"capacity": types("g6.xlarge"), "fallback": FallbackSpec(instance_types=("g5.xlarge",))},
        "fallback: the primary hosts already run whole GPUs",
    ),
    (
        "a render timeout past the job timeout",
        {"render": RenderSettings(timeout_seconds=900), "job_timeout_seconds": 600},
        "render.timeout_seconds: 900 s is not below job_timeout_seconds 600 s",
    ),
]


@pytest.mark.parametrize(("case", "overrides", "message"), BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_a_bad_spec_is_rejected_with_one_error_naming_the_field_and_the_fix(case, overrides, message):
    with pytest.raises(ValidationError) as error:
        spec(**overrides)
    text = str(error.value)
    assert message in text
    assert "Fix:" in text


BAD_PARTS: list[tuple[str, Any, str]] = [
    (
        "a warm pool with several instance types",
        lambda: types("g6f.xlarge", "g6f.2xlarge", warm_pool=WarmPoolSpec()),
        "capacity.warm_pool: EC2 warm pools do not support mixed instance types",
    ),
    ("a root worker", lambda: RenderWorkerSpec(image=IMAGE, user="0:0"), "worker.user: uid 0 is root"),
    (
        "render settings in the extra environment",
        lambda: RenderWorkerSpec(image=IMAGE, environment={"RENDER_SIZE": "64"}),
        "worker.environment: RENDER_SIZE are set by the blueprint",
    ),
    ("a repeated view", lambda: RenderSettings(views=("front", "front")), "render.views: a view is listed twice"),
    ("an unknown view", lambda: RenderSettings(views=("side",)), "views.0"),
]


@pytest.mark.parametrize(("case", "build", "message"), BAD_PARTS, ids=[c[0] for c in BAD_PARTS])
def test_a_bad_part_of_the_spec_is_rejected_where_it_is_built(case, build, message):
    with pytest.raises(ValidationError) as error:
        build()
    assert message in str(error.value)
