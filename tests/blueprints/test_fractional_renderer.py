"""FractionalGpuRenderer: spec validation, derived sizing, and each emitted property on the example stacks."""

import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from pydantic import ValidationError

from blueprints.fractional_renderer import (
    FallbackSpec,
    FractionalGpuRenderer,
    FractionalRendererSpec,
    RenderSettings,
    RenderWorkerSpec,
    review_notes,
)
from blueprints.idle_stop_queue import IdleStopGpuQueue, IdleStopGpuQueueSpec
from examples.renderer import heavy_renderer, validation_renderer
from render_worker.config import RenderOptions, WorkerSettings
from sdk.constructs.engine import App
from sdk.constructs.stack import GpuStack
from sdk.gateway_spec import GatewaySpec
from sdk.hints import read_hints
from sdk.specs import CapacitySpec, ContainerSpec, WarmPoolSpec
from sdk.tfjson import load_stacks
from tests.blueprints.conftest import prepulls, user_data

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


def test_an_eighth_of_an_l4_on_a_g6f_4xlarge_is_refused_because_one_task_takes_the_partition():
    # GIVEN a 0.125 GPU share on a g6f.4xlarge (half an L4: one vGPU device, pinned to one container)
    # WHEN the spec is validated THEN it names the field and the value that places
    with pytest.raises(ValidationError) as error:
        spec(capacity=types("g6f.4xlarge"), worker=RenderWorkerSpec(image=IMAGE, gpu=0.125))
    assert "gpu" in str(error.value) and "Fix: gpu=0.5" in str(error.value)


def test_explicit_cpu_and_memory_win_over_the_host_share():
    # GIVEN half an L4 per task on g6f.4xlarge but only 8 of its 16 vCPU asked for
    renderer = spec(capacity=types("g6f.4xlarge"), worker=RenderWorkerSpec(image=IMAGE, cpu=8192, memory_mib=16384))
    # THEN the task asks for what was given, and the GPU partition still bounds a host to one task
    assert (renderer.container.gpu, renderer.container.cpu, renderer.container.memory_mib) == (0.5, 8192, 16384)
    assert renderer.tasks_per_host == 1


def test_the_fallback_container_asks_for_a_whole_gpu_sized_to_its_own_hosts():
    # GIVEN a g6f.4xlarge renderer with a g6.xlarge fallback
    renderer = spec(capacity=types("g6f.4xlarge"), fallback=FallbackSpec())
    # THEN the primary asks for half an L4 and 16 vCPU; the fallback for one L4 and the g6.xlarge's 4 vCPU
    assert (renderer.container.gpu, renderer.container.cpu) == (0.5, 16384)
    assert (renderer.fallback_container.gpu, renderer.fallback_container.cpu) == (1, 4096)
    assert renderer.fallback_container.memory_mib < renderer.container.memory_mib


def test_the_fallback_is_declared_in_both_queue_specs_rather_than_patched_after_construction():
    # GIVEN a renderer whose fallback starts after 7 minutes and whose job timeout is set
    renderer = spec(capacity=types("g6f.4xlarge"), fallback=FallbackSpec(after_minutes=7), job_timeout_seconds=1200)
    # WHEN its two consumers' specs are built
    primary, fallback = renderer.queue_spec(), renderer.fallback_queue_spec()
    # THEN each names the other as sharing its queue, only the fallback waits, and both carry the job timeout
    assert (primary.shares_queue_with, primary.start_after_minutes) == ("render-fb", 0)
    assert (fallback.shares_queue_with, fallback.start_after_minutes) == ("render", 7)
    assert primary.jobs_spec.job_timeout_seconds == fallback.jobs_spec.job_timeout_seconds == 1200
    # AND without a fallback the primary is the queue's only consumer, with the job stream's defaults
    alone = spec().queue_spec()
    assert alone.shares_queue_with is None and alone.jobs.model_fields_set == set()


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


def test_default_render_settings_are_the_workers_tuned_defaults():
    # GIVEN a renderer that leaves the render settings out WHEN the worker reads the task's environment
    settings = WorkerSettings.from_env(spec().container.environment)
    # THEN it renders with the worker's own benchmarked defaults (views, size, samples, device)
    assert settings.defaults == RenderOptions()


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
        "an unknown size beside a fallback",
        {"capacity": types("g6f.8xlarge"), "fallback": FallbackSpec(instance_types=("g6.xlarge",))},
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
        "a region variable naming another region",
        {"region": "us-east-1", "worker": RenderWorkerSpec(image=IMAGE, environment={"AWS_REGION": "eu-west-1"})},
        "worker.environment: AWS_REGION='eu-west-1' but the stack deploys to us-east-1",
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


# -- emitted stacks ------------------------------------------------------------------------------------------


def shared_queue_renderer(app: Any) -> None:
    """A g6f.large renderer that consumes the jobs of an existing IdleStopGpuQueue instead of creating its own."""
    stack = GpuStack(app, "renderer-shared", region="us-east-1")
    queue = IdleStopGpuQueue(
        stack,
        "queue",
        spec=IdleStopGpuQueueSpec(
            name="previews",
            capacity=types("g6.xlarge"),
            container=ContainerSpec(image=IMAGE, gpu=1, cpu=2048, memory_mib=8192),
        ),
    )
    FractionalGpuRenderer(stack, "renderer", spec=spec(name="small", capacity=types("g6f.large")), jobs=queue.jobs)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("renderer-synth")
    app = App(outdir=str(out))
    for add in (validation_renderer, heavy_renderer, shared_queue_renderer):
        add(app)
    app.synth()
    return load_stacks(out / "stacks")


def by_path(stack: dict[str, Any], kind: str, fragment: str) -> dict[str, Any]:
    found = [r for r in stack["resource"].get(kind, {}).values() if fragment in r["//"]["metadata"]["path"]]
    assert len(found) == 1, f"{kind} under {fragment}: {len(found)}"
    return found[0]


def containers(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tds = stack["resource"]["aws_ecs_task_definition"].values()
    return {td["//"]["metadata"]["path"].split("/")[2]: json.loads(td["container_definitions"])[0] for td in tds}


def test_the_render_task_asks_for_its_gpu_share_in_bridge_mode_without_privileges_or_device_mappings(stacks):
    # GIVEN the validation renderer (g6f.xlarge)
    td = by_path(stacks["renderer-validation"], "aws_ecs_task_definition", "/primary/")
    container = containers(stacks["renderer-validation"])["primary"]
    # THEN bridge mode, a 0.125 GPU requirement, no device mappings, no added capabilities, not privileged
    assert td["network_mode"] == "bridge" and "portMappings" not in container
    assert container["resourceRequirements"] == [{"type": "GPU", "value": "0.125"}]
    assert "devices" not in container["linuxParameters"]
    assert "add" not in container["linuxParameters"].get("capabilities", {})
    assert container["privileged"] is False and "SYS_ADMIN" not in str(td)


def test_the_render_task_runs_non_root_on_a_read_only_root_with_scratch_and_a_kernel_cache_volume(stacks):
    td = by_path(stacks["renderer-validation"], "aws_ecs_task_definition", "/primary/")
    container = containers(stacks["renderer-validation"])["primary"]
    assert container["user"] == "10001:10001" and container["readonlyRootFilesystem"] is True
    mounts = {m["containerPath"]: m["sourceVolume"] for m in container["mountPoints"]}
    exec_paths = {"/var/lib/amazon/ssm", "/var/log/amazon/ssm", "/managed-agents"}
    assert {"/scratch", "/tmp", "/var/cache/render-kernels", *exec_paths} == set(mounts)
    assert all(m["readOnly"] is False for m in container["mountPoints"])
    assert {v["name"] for v in td["volume"]} == set(mounts.values())
    # the kernel cache outlives tasks: a shared Docker volume per host, so a worker scaled from zero finds the
    # kernels an earlier task compiled on that host
    (cache,) = [v for v in td["volume"] if v["name"] == mounts["/var/cache/render-kernels"]]
    assert cache["docker_volume_configuration"] == {"scope": "shared", "autoprovision": True, "driver": "local"}
    assert container["command"] == ["serve"] and container["healthCheck"]["command"][-3:] == [
        "health",
        "--max-age",
        "60",
    ]


def test_render_defaults_and_the_queue_reach_the_worker_as_environment(stacks):
    env = {e["name"]: e["value"] for e in containers(stacks["renderer-heavy"])["primary"]["environment"]}
    assert (env["RENDER_VIEWS"], env["RENDER_SIZE"], env["RENDER_SAMPLES"]) == ("front,left,iso,top", "2048", "256")
    assert env["RENDER_TIMEOUT_S"] == "1800"
    assert env["GPU_JOBS_QUEUE_URL"].startswith("${aws_sqs_queue.renderer_primary_jobs_queue")
    assert env["GPU_JOBS_TABLE"].startswith("${aws_dynamodb_table.") and env["GPU_JOBS_BUCKET"].startswith("${aws_s3")


def test_tasks_are_pinned_to_the_instance_family_they_were_sized_for(stacks):
    def constraint(stack: str, part: str) -> str:
        td = by_path(stacks[stack], "aws_ecs_task_definition", f"/{part}/")
        [placement] = td["placement_constraints"]
        assert placement["type"] == "memberOf"
        return placement["expression"]

    assert constraint("renderer-validation", "primary") == "attribute:ecs.instance-type =~ g6f.*"
    assert constraint("renderer-heavy", "primary") == "attribute:ecs.instance-type =~ g6f.*"
    assert constraint("renderer-heavy", "fallback") == "attribute:ecs.instance-type in [g6.xlarge]"


def test_hosts_run_the_al2023_gpu_ami_and_the_validation_renderer_keeps_a_warm_host_with_the_image(stacks):
    stack = stacks["renderer-validation"]
    [ami] = stack["data"]["aws_ssm_parameter"].values()
    assert ami["name"] == "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
    asg = by_path(stack, "aws_autoscaling_group", "/primary/")
    assert asg["warm_pool"]["min_size"] == 1 and asg["warm_pool"]["instance_reuse_policy"]["reuse_on_scale_in"] is False
    template = by_path(stack, "aws_launch_template", "/primary/")
    assert "mixed_instances_policy" not in asg and template["instance_type"] == "g6f.xlarge"
    text = user_data(stack, by_path(stack, "aws_launch_template", "/primary/"))
    assert "ECS_WARM_POOLS_CHECK=true" in text and prepulls(text)[0].startswith("123456789012.dkr.ecr")
    assert "vm.overcommit_memory" not in text


def test_g6f_large_hosts_get_memory_overcommit_in_user_data(stacks):
    stack = stacks["renderer-shared"]
    text = user_data(stack, by_path(stack, "aws_launch_template", "renderer/primary/"))
    assert "sysctl -w vm.overcommit_memory=1" in text


def test_the_heavy_renderer_falls_back_to_whole_l4s_on_its_own_capacity_provider_and_the_same_queue(stacks):
    stack = stacks["renderer-heavy"]
    # THEN one job queue and one VPC; two capacity providers, services and task definitions
    assert len(stack["resource"]["aws_sqs_queue"]) == 2  # the queue and its DLQ
    assert len(stack["resource"]["aws_vpc"]) == 1
    assert len(stack["resource"]["aws_ecs_capacity_provider"]) == 2 and len(stack["resource"]["aws_ecs_service"]) == 2
    fallback = containers(stack)["fallback"]
    assert fallback["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
    primary_env = {e["name"]: e["value"] for e in containers(stack)["primary"]["environment"]}
    fallback_env = {e["name"]: e["value"] for e in fallback["environment"]}
    assert {k: v for k, v in fallback_env.items() if k.startswith(("GPU_JOBS_", "RENDER_"))} == {
        k: v for k, v in primary_env.items() if k.startswith(("GPU_JOBS_", "RENDER_"))
    }
    asgs = [by_path(stack, "aws_autoscaling_group", f"/{part}/") for part in ("primary", "fallback")]
    assert asgs[0]["vpc_zone_identifier"] == asgs[1]["vpc_zone_identifier"]
    assert [o["instance_type"] for o in asgs[1]["mixed_instances_policy"]["launch_template"]["override"]] == [
        "g6.xlarge"
    ]


def scaling_expression(stack: dict[str, Any], consumer: str, alarm: str) -> tuple[str, dict[str, Any]]:
    queries = by_path(stack, "aws_cloudwatch_metric_alarm", f"/{consumer}/{alarm}_alarm")["metric_query"]
    [expression] = [q["expression"] for q in queries if q.get("return_data")]
    return expression, {q["id"]: q["metric"] for q in queries if "metric" in q}


def test_each_consumer_of_the_heavy_renderers_queue_scales_on_the_jobs_that_are_its_own(stacks):
    # GIVEN the heavy renderer: fractional primary and whole-GPU fallback (after 10 min) on one queue
    stack = stacks["renderer-heavy"]
    # WHEN the scaling alarms' metric math is read
    backlog = {c: scaling_expression(stack, c, "backlog") for c in ("primary", "fallback")}
    idle = {c: scaling_expression(stack, c, "idle") for c in ("primary", "fallback")}
    # THEN the primary wants a task per waiting job plus its own running tasks, not the jobs the fallback holds
    assert backlog["primary"][0] == "FILL(visible, 0) + FILL(own_running, 0)"
    assert backlog["primary"][1]["own_running"]["dimensions"] == {
        "ClusterName": "render-heavy",
        "ServiceName": "render-heavy",
    }
    # AND the fallback starts only once a job waited 600 s, and then counts its own running tasks too
    assert backlog["fallback"][0] == "IF(FILL(age, 0) > 600, FILL(visible, 0) + FILL(own_running, 0), 0)"
    assert backlog["fallback"][1]["own_running"]["dimensions"]["ServiceName"] == "render-heavy-fb"
    # AND each stops when nothing waits (for it) and the in-flight jobs beyond the other's tasks are none
    held = "IF(FILL(in_flight, 0) > FILL(other_running, 0), FILL(in_flight, 0) - FILL(other_running, 0), 0)"
    assert idle["primary"][0] == f"FILL(visible, 0) + {held}"
    assert idle["fallback"][0] == f"IF(FILL(age, 0) > 600, FILL(visible, 0), 0) + {held}"
    assert idle["primary"][1]["other_running"]["dimensions"]["ServiceName"] == "render-heavy-fb"
    assert idle["fallback"][1]["other_running"]["dimensions"]["ServiceName"] == "render-heavy"
    # AND every SQS metric is of the one shared queue
    queues = {
        m["dimensions"]["QueueName"]
        for _, metrics in [*backlog.values(), *idle.values()]
        for m in metrics.values()
        if m["namespace"] == "AWS/SQS"
    }
    assert len(queues) == 1


def test_a_renderer_without_fallback_keeps_the_queues_outstanding_jobs_expression(stacks):
    expression, _ = scaling_expression(stacks["renderer-validation"], "primary", "backlog")
    assert expression == "FILL(visible, 0) + FILL(in_flight, 0)"


def test_worker_roles_reach_only_the_renderers_queue_table_and_files(stacks):
    stack = stacks["renderer-heavy"]
    policies = [
        json.loads(p["policy"])
        for p in stack["resource"]["aws_iam_role_policy"].values()
        if p["//"]["metadata"]["path"].endswith("roles/task_policy")
    ]
    assert len(policies) == 2  # primary and fallback task roles
    for policy in policies:
        by_sid = {s["Sid"]: s for s in policy["Statement"]}
        assert by_sid["ConsumeJobs"]["Resource"] == ["${aws_sqs_queue.renderer_primary_jobs_queue_6C2D7995.arn}"]
        assert by_sid["JobInputs"]["Resource"][0].endswith("/jobs/*/inputs/*")
        assert by_sid["JobOutputs"]["Resource"][0].endswith("/jobs/*/outputs/*")
        assert all("*" not in action for s in policy["Statement"] for action in s["Action"])


def test_a_renderer_given_an_existing_queues_jobs_creates_no_queue_of_its_own(stacks):
    stack = stacks["renderer-shared"]
    assert len(stack["resource"]["aws_sqs_queue"]) == 2  # the previews queue and its DLQ only
    td = by_path(stack, "aws_ecs_task_definition", "renderer/primary/")
    env = {e["name"]: e["value"] for e in json.loads(td["container_definitions"])[0]["environment"]}
    assert env["GPU_JOBS_QUEUE_URL"].startswith("${aws_sqs_queue.queue_jobs_queue")


def test_alarms_and_a_log_group_cover_each_consumer(stacks):
    stack = stacks["renderer-validation"]
    names = {a["alarm_name"] for a in stack["resource"]["aws_cloudwatch_metric_alarm"].values()}
    assert {"render-validate-dlq-over-100", "render-validate-oldest-job-age", "render-validate-jobs-failed"} <= names
    assert {g["name"] for g in stack["resource"]["aws_cloudwatch_log_group"].values()} >= {"/ecs/render-validate"}


def test_the_review_notes_say_what_the_renderer_does_and_why_in_the_users_terms(stacks):
    # GIVEN the heavy renderer WHEN its notes are read
    hints = read_hints(stacks["renderer-heavy"])["renderer"]
    notes = " ".join(hints.review_notes)
    # THEN they say what runs and why (privileges, GPU slice, image, user, fallback), not how it differs from a source
    for phrase in (
        "no extra Linux privileges (no SYS_ADMIN)",
        "Each render asks for 0.5 GPU, not 1",
        "Amazon Linux 2023 ECS GPU image",
        "user 10001",
        "When a job has waited 10 min, whole-GPU g6.xlarge hosts start",
    ):
        assert phrase in notes
    assert "source task definition" not in notes
    assert hints.gpu_capacity == ()  # each consumer queue reports its own hosts to the cost estimate
    assert any("fallback: 1 GPU per render on g6.xlarge once a job waits 10 min" in line for line in hints.summary)


def test_a_renderer_on_whole_gpus_claims_no_fractional_gpu_value_in_its_notes():
    notes = " ".join(review_notes(spec(capacity=types("g6.xlarge"))))
    assert "SYS_ADMIN" in notes and "GPU, not 1" not in notes
    assert "asks for 0.125 GPU, not 1" in " ".join(review_notes(spec(capacity=types("g6f.xlarge"))))


def test_every_render_container_definition_is_valid_ecs_input(stacks):
    shape = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition")
    assert shape.input_shape is not None
    for stack in stacks.values():
        for td in stack["resource"]["aws_ecs_task_definition"].values():
            params = {"family": td["family"], "containerDefinitions": json.loads(td["container_definitions"])}
            report = ParamValidator().validate(params, shape.input_shape)
            assert not report.has_errors(), report.generate_report()


def test_the_heavy_renderers_zones_must_offer_the_fallbacks_type_too(stacks):
    # GIVEN the heavy renderer, whose g6.xlarge fallback hosts share the primary's subnets
    stack = stacks["renderer-heavy"]
    # WHEN the zones its network reads are listed
    offered = {o["filter"][0]["values"][0] for o in stack["data"]["aws_ec2_instance_type_offerings"].values()}
    summary = [line for hints in read_hints(stack).values() for line in hints.summary if line.startswith("AZs:")]
    # THEN both the primary's and the fallback's types choose the AZs, and the summary says so
    assert offered == {"g6f.4xlarge", "g6.xlarge"}
    assert summary == ["AZs: first 2 (sorted) where g6f.4xlarge, g6.xlarge are offered"]


def test_the_renderers_gateway_goes_to_its_primary_queue_only():
    # GIVEN a renderer with an IAM-auth gateway WHEN its queue specs are derived
    gateway = GatewaySpec(auth="iam")
    renderer = spec(gateway=gateway)
    # THEN the primary queue carries it (one API per job stream)
    assert renderer.queue_spec().gateway == gateway
    assert spec().queue_spec().gateway is None
