"""IdleStopGpuQueue: each feature of the issue, asserted on stacks this module synthesizes (build_app below)."""

import fnmatch
import json
import re
import uuid
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from blueprints.idle_stop_queue import (
    CAPACITY_PROVIDER_SCALE_IN_MINUTES,
    JOBS_METRICS_NAMESPACE,
    IdleStopGpuQueue,
    IdleStopGpuQueueSpec,
    backlog_steps,
)
from examples.queue import comfyui_queue
from sdk.constructs.engine import App, Construct, Testing
from sdk.constructs.jobs import JobResources
from sdk.constructs.stack import GpuStack
from sdk.hints import read_hints
from sdk.job_specs import JobResourcesSpec
from sdk.jobs.client import JobClient
from sdk.jobs.config import WORKER_ENV_VARS, WorkerConfig
from sdk.jobs.dead_letters import SWEEP_LIMIT
from sdk.jobs.worker import JobContext, Worker
from sdk.specs import AlarmsSpec
from sdk.specs.queue import ExistingQueueSpec
from sdk.synth import synth_app
from sdk.tfjson import load_stack, resources
from tests.blueprints.conftest import only, prepulls, user_data
from tests.sdk.constructs.test_job_table import create_table_request

ACCOUNT, REGION = "123456789012", "us-east-1"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/render-worker:3"
BYO_QUEUE = ExistingQueueSpec(
    queue_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:team-jobs",
    queue_url=f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/team-jobs",
    dlq_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:team-jobs-dlq",
)
VALID: dict[str, Any] = {
    "name": "edits",
    "capacity": {"instance_types": ["g6.xlarge", "g5.xlarge"]},
    "container": {"image": IMAGE, "gpu": 1, "cpu": 2048, "memory_mib": 8192},
}


def spec(**changes: Any) -> IdleStopGpuQueueSpec:
    return IdleStopGpuQueueSpec.model_validate({**VALID, **changes})


def build_app(app: Construct) -> None:
    """The example stack plus the variants: bridge + warm pool, a queue you bring, two consumers of one queue."""
    comfyui_queue(app)
    IdleStopGpuQueue(
        GpuStack(app, "bridge", region=REGION),
        "render",
        spec=spec(
            name="render",
            capacity={"instance_types": ["g6.2xlarge"]},
            network_mode="bridge",
            placement_constraint="attribute:ecs.instance-type == g6.2xlarge",
            max_workers=20,
            idle_minutes=10,
            alarms=AlarmsSpec(sns_topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"),
        ),
    )
    IdleStopGpuQueue(
        GpuStack(app, "byo-queue", region=REGION), "team", spec=spec(name="team", jobs={"existing_queue": BYO_QUEUE})
    )
    shared = GpuStack(app, "shared-jobs", region=REGION)
    jobs = JobResources(shared, "jobs", spec=JobResourcesSpec(name="shared", job_timeout_seconds=1800))
    for name in ("fast", "slow"):
        IdleStopGpuQueue(shared, name, spec=spec(name=name), jobs=jobs)


@pytest.fixture(scope="module")
def stacks() -> dict[str, dict[str, Any]]:
    return synth_app(__name__)


@pytest.fixture(scope="module")
def comfyui(stacks) -> dict[str, Any]:
    return stacks["comfyui-queue"]


def ref(stack: dict[str, Any], kind: str, attribute: str, **match: Any) -> str:
    """`${kind.key.attribute}` of the one resource of that kind whose fields match."""
    keys = [k for k, r in resources(stack, kind).items() if all(r.get(f) == v for f, v in match.items())]
    assert len(keys) == 1, (kind, match, keys)
    return f"${{{kind}.{keys[0]}.{attribute}}}"


def container(stack: dict[str, Any], family: str | None = None) -> dict[str, Any]:
    tasks = [t for t in resources(stack, "aws_ecs_task_definition").values() if family in (None, t["family"])]
    assert len(tasks) == 1
    return json.loads(tasks[0]["container_definitions"])[0]


def environment(stack: dict[str, Any], family: str | None = None) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(stack, family)["environment"]}


def statements(stack: dict[str, Any], policy_name: str) -> dict[str, dict[str, Any]]:
    for kind in ("aws_iam_role_policy", "aws_iam_policy"):
        for policy in resources(stack, kind).values():
            if policy["name"] == policy_name:
                return {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    raise AssertionError(f"no policy {policy_name}")


def alarm_named(stack: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [a for a in resources(stack, "aws_cloudwatch_metric_alarm").values() if a["alarm_name"] == name]
    return found


def tasks_for(steps: list[dict[str, Any]], outstanding: float) -> int:
    """The step AWS applies above a threshold of 0: lower bound inclusive, upper bound exclusive."""
    chosen = [
        s["scaling_adjustment"]
        for s in steps
        if float(s.get("metric_interval_lower_bound", "-inf")) <= outstanding
        and outstanding < float(s.get("metric_interval_upper_bound", "inf"))
    ]
    assert len(chosen) == 1, (outstanding, steps)
    return chosen[0]


# -- queue, table, bucket ---------------------------------------------------------------------------------------


def test_the_queue_is_encrypted_long_polls_and_hides_a_job_for_its_timeout_plus_a_minute(comfyui):
    queue = only_named(comfyui, "aws_sqs_queue", "comfyui-jobs")
    assert queue["sqs_managed_sse_enabled"] is True
    assert queue["receive_wait_time_seconds"] == 20
    assert queue["visibility_timeout_seconds"] == 600 + 60
    assert '"maxReceiveCount" = 3' in queue["redrive_policy"]
    assert ref(comfyui, "aws_sqs_queue", "arn", name="comfyui-jobs-dlq")[2:-1] in queue["redrive_policy"]


def test_the_dlq_keeps_jobs_14_days_and_only_the_queue_may_redrive_into_it(comfyui):
    dlq = only_named(comfyui, "aws_sqs_queue", "comfyui-jobs-dlq")
    assert dlq["message_retention_seconds"] == 1209600 and dlq["sqs_managed_sse_enabled"] is True
    allow = only(comfyui, "aws_sqs_queue_redrive_allow_policy")
    assert '"redrivePermission" = "byQueue"' in allow["redrive_allow_policy"]
    assert len(resources(comfyui, "aws_sqs_queue_policy")) == 2


def test_the_job_table_has_the_status_index_ttl_pitr_and_encryption(comfyui):
    table = only(comfyui, "aws_dynamodb_table")
    assert (table["name"], table["hash_key"], table["billing_mode"]) == ("comfyui-jobs", "job_id", "PAY_PER_REQUEST")
    assert table["global_secondary_index"][0]["name"] == "status-created_at"
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert table["point_in_time_recovery"]["enabled"] and table["server_side_encryption"]["enabled"]


def test_the_job_bucket_is_private_encrypted_and_expires_files(comfyui):
    assert only(comfyui, "aws_s3_bucket")["bucket_prefix"] == "comfyui-jobs-"
    assert only(comfyui, "aws_s3_bucket_public_access_block")["restrict_public_buckets"] is True
    (rule,) = only(comfyui, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["expiration"] == [{"days": 30}]
    deny = json.loads(only(comfyui, "aws_s3_bucket_policy")["policy"])["Statement"][0]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def only_named(stack: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    (found,) = [r for r in resources(stack, kind).values() if r.get("name") == name]
    return found


# -- the consumer service and scaling -------------------------------------------------------------------------


def test_the_consumer_service_runs_zero_tasks_at_rest_on_hosts_that_scale_from_zero(comfyui):
    service = only(comfyui, "aws_ecs_service")
    assert service["desired_count"] == 0
    assert service["lifecycle"] == {"ignore_changes": ["desired_count"]}
    cp = ref(comfyui, "aws_ecs_capacity_provider", "name", name="comfyui-cp")
    assert service["capacity_provider_strategy"] == [{"base": 0, "capacity_provider": cp, "weight": 1}]
    asg = only(comfyui, "aws_autoscaling_group")
    assert asg["min_size"] == 0 and asg["max_size"] == 8 and asg["protect_from_scale_in"] is True
    target = only(comfyui, "aws_appautoscaling_target")
    assert (target["min_capacity"], target["max_capacity"]) == (0, 4)


def test_one_outstanding_job_starts_one_task_from_zero_and_more_jobs_start_more_up_to_max_workers(comfyui):
    # GIVEN the backlog policy and its alarm
    backlog = only_named(comfyui, "aws_appautoscaling_policy", "comfyui-backlog")["step_scaling_policy_configuration"]
    alarm = alarm_named(comfyui, "comfyui-backlog")
    # THEN the alarm fires on one 60 s datapoint of visible + in-flight > 0 and calls the policy
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)
    assert (alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (1, 1)
    assert alarm["alarm_actions"] == [ref(comfyui, "aws_appautoscaling_policy", "arn", name="comfyui-backlog")]
    assert_outstanding_jobs_query(comfyui, alarm)
    # AND the policy sets an exact task count: 1 job -> 1 task (from 0), n jobs -> n tasks, capped at 4
    assert backlog["adjustment_type"] == "ExactCapacity"
    assert [tasks_for(backlog["step_adjustment"], n) for n in (1, 2, 3, 4, 5, 100)] == [1, 2, 3, 4, 4, 4]


def test_no_job_waiting_or_running_for_idle_minutes_scales_the_service_to_zero(comfyui):
    idle = only_named(comfyui, "aws_appautoscaling_policy", "comfyui-idle-stop")["step_scaling_policy_configuration"]
    alarm = alarm_named(comfyui, "comfyui-idle")
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("LessThanOrEqualToThreshold", 0)
    assert (alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (30, 30)
    assert alarm["treat_missing_data"] == "breaching"
    assert alarm["alarm_actions"] == [ref(comfyui, "aws_appautoscaling_policy", "arn", name="comfyui-idle-stop")]
    assert_outstanding_jobs_query(comfyui, alarm)
    assert idle["adjustment_type"] == "ExactCapacity"
    assert idle["step_adjustment"] == [{"metric_interval_upper_bound": "0", "scaling_adjustment": 0}]


def assert_outstanding_jobs_query(stack: dict[str, Any], alarm: dict[str, Any]) -> None:
    queries = {q["id"]: q for q in alarm["metric_query"]}
    assert queries["outstanding"] == {
        "id": "outstanding",
        # FILL: in-flight is not reported while nothing is in flight, which would leave the sum empty
        "expression": "FILL(visible, 0) + FILL(in_flight, 0)",
        "label": "outstanding jobs",
        "return_data": True,
    }
    queue_name = ref(stack, "aws_sqs_queue", "name", name="comfyui-jobs")
    for key, metric in (
        ("visible", "ApproximateNumberOfMessagesVisible"),
        ("in_flight", "ApproximateNumberOfMessagesNotVisible"),
    ):
        assert queries[key]["metric"] == {
            "namespace": "AWS/SQS",
            "metric_name": metric,
            "period": 60,
            "stat": "Maximum",
            "dimensions": {"QueueName": queue_name},
        }


@pytest.mark.parametrize(
    ("max_workers", "capacities"),
    [(1, [1]), (3, [1, 2, 3]), (20, [1, 2, 3, 4, 8, 16, 20]), (100, [1, 2, 3, 4, 8, 16, 32, 64, 100])],
)
def test_backlog_steps_stay_few_and_never_start_more_tasks_than_jobs(max_workers, capacities):
    steps = backlog_steps(max_workers)
    assert [s["scaling_adjustment"] for s in steps] == capacities
    for outstanding in range(1, max_workers + 5):
        assert 1 <= tasks_for(steps, outstanding) <= min(outstanding, max_workers)
    assert tasks_for(steps, max_workers) == max_workers


def test_a_stopped_worker_has_ecs_longest_stop_timeout_and_hands_its_job_back_before_it(comfyui):
    # GIVEN the example consumer WHEN its task definition is read
    env, definition = environment(comfyui), container(comfyui)
    # THEN ECS waits 120 s after SIGTERM, the job the worker holds may finish for 110 s, and the job gives up
    # after its own timeout (600 s)
    assert definition["stopTimeout"] == 120
    assert (env["GPU_JOBS_STOP_GRACE_SECONDS"], env["GPU_JOBS_JOB_TIMEOUT_SECONDS"]) == ("110", "600")
    config = WorkerConfig.from_env(
        {**env, "GPU_JOBS_QUEUE_URL": "https://q", "GPU_JOBS_TABLE": "t", "GPU_JOBS_BUCKET": "b"}
    )
    assert (config.stop_grace_seconds, config.job_timeout_seconds) == (110, 600)


def test_the_worker_task_gets_the_job_environment_the_worker_reads(comfyui):
    env = environment(comfyui)
    assert set(WORKER_ENV_VARS) - {"GPU_JOBS_IDLE_EXIT_SECONDS"} <= set(env)
    assert env["GPU_JOBS_QUEUE_URL"] == ref(comfyui, "aws_sqs_queue", "url", name="comfyui-jobs")
    assert env["GPU_JOBS_TABLE"] == ref(comfyui, "aws_dynamodb_table", "name", name="comfyui-jobs")
    assert env["GPU_JOBS_BUCKET"] == ref(comfyui, "aws_s3_bucket", "bucket", bucket_prefix="comfyui-jobs-")
    assert (env["GPU_JOBS_PREFIX"], env["GPU_JOBS_VISIBILITY_TIMEOUT"], env["GPU_JOBS_MAX_RECEIVE_COUNT"]) == (
        "jobs/",
        "660",
        "3",
    )
    assert "GPU_JOBS_IDLE_EXIT_SECONDS" not in env  # the service, not the worker, decides when to stop
    assert env["COMFYUI_WORKFLOW"] == "img2img-sdxl"


# -- IAM ------------------------------------------------------------------------------------------------------


def test_the_worker_role_may_only_consume_its_queue_claim_its_rows_use_its_files_and_protect_its_tasks(comfyui):
    task = statements(comfyui, "comfyui-us-east-1-task-policy")
    queue_arn = ref(comfyui, "aws_sqs_queue", "arn", name="comfyui-jobs")
    table_arn = ref(comfyui, "aws_dynamodb_table", "arn", name="comfyui-jobs")
    bucket_arn = ref(comfyui, "aws_s3_bucket", "arn", bucket_prefix="comfyui-jobs-")
    expected = {
        "ConsumeJobs": (
            ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
            [queue_arn],
        ),
        "SweepDeadLetters": (
            ["sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"],
            [ref(comfyui, "aws_sqs_queue", "arn", name="comfyui-jobs-dlq")],
        ),
        "ClaimJobRows": (["dynamodb:GetItem", "dynamodb:UpdateItem"], [table_arn]),
        "JobInputs": (["s3:GetObject"], [f"{bucket_arn}/jobs/*/inputs/*"]),
        "JobOutputs": (["s3:PutObject", "s3:AbortMultipartUpload"], [f"{bucket_arn}/jobs/*/outputs/*"]),
    }
    for sid, (actions, resources_) in expected.items():
        assert (task[sid]["Action"], task[sid]["Resource"]) == (actions, resources_), sid
    protection = task["TaskProtection"]
    assert protection["Action"] == ["ecs:GetTaskProtection", "ecs:UpdateTaskProtection"]
    (arn,) = protection["Resource"]
    assert re.fullmatch(r"arn:aws:ecs:us-east-1:\$\{data\.aws_caller_identity\.\w+\.account_id\}:task/comfyui/\*", arn)
    assert not [a for s in task.values() for a in s["Action"] if "*" in a]
    assert all(s["Effect"] == "Allow" for s in task.values())


def test_the_submitter_policy_may_only_send_jobs_and_put_and_get_rows_and_files(comfyui):
    submitter = statements(comfyui, "comfyui-us-east-1-jobs-submitter")
    actions = sorted(a for s in submitter.values() for a in s["Action"])
    assert actions == [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "s3:AbortMultipartUpload",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "sqs:SendMessage",
    ]
    # inputs are written by the submitter and only read by workers; outputs the other way round
    bucket_arn = ref(comfyui, "aws_s3_bucket", "arn", bucket_prefix="comfyui-jobs-")
    assert submitter["JobInputs"]["Resource"] == [f"{bucket_arn}/jobs/*/inputs/*"]
    assert (submitter["JobOutputs"]["Action"], submitter["JobOutputs"]["Resource"]) == (
        ["s3:GetObject"],
        [f"{bucket_arn}/jobs/*/outputs/*"],
    )
    assert submitter["SendJobs"]["Resource"] == [ref(comfyui, "aws_sqs_queue", "arn", name="comfyui-jobs")]
    assert submitter["ListJobFiles"]["Condition"] == {"StringLike": {"s3:prefix": ["jobs/*"]}}


# -- alarms, outputs, hints -------------------------------------------------------------------------------------


def test_alarms_fire_on_failed_jobs_old_jobs_and_a_dlq_past_the_sweep_and_notify_the_topic(comfyui):
    # GIVEN the ComfyUI queue WHEN synthesized
    topic = ref(comfyui, "aws_sns_topic", "arn", name="comfyui-alarms")
    # THEN one failed job pages once (jobs-failed): the DLQ alarm fires only when the DLQ holds what a sweep reads
    dlq = alarm_named(comfyui, "comfyui-dlq-over-100")
    assert (dlq["metric_name"], dlq["threshold"], dlq["comparison_operator"]) == (
        "ApproximateNumberOfMessagesVisible",
        SWEEP_LIMIT,
        "GreaterThanOrEqualToThreshold",
    )
    assert "sweep reads 100" in dlq["alarm_description"]
    assert dlq["dimensions"] == {"QueueName": ref(comfyui, "aws_sqs_queue", "name", name="comfyui-jobs-dlq")}
    age = alarm_named(comfyui, "comfyui-oldest-job-age")
    assert (age["metric_name"], age["threshold"]) == ("ApproximateAgeOfOldestMessage", 1200)
    failing = alarm_named(comfyui, "comfyui-jobs-failed")
    assert (failing["namespace"], failing["metric_name"], failing["statistic"]) == (
        JOBS_METRICS_NAMESPACE,
        "JobsFailed",
        "Sum",
    )
    assert WorkerConfig(queue_url="q", table_name="t", bucket="b").metrics_namespace == JOBS_METRICS_NAMESPACE
    assert failing["dimensions"] == {"Queue": ref(comfyui, "aws_sqs_queue", "name", name="comfyui-jobs")}
    for alarm in (dlq, age, failing):
        assert alarm["alarm_actions"] == [topic] == alarm["ok_actions"]


def test_outputs_name_the_queue_table_bucket_and_submitter_policy(comfyui):
    values = {o["value"] for o in comfyui["output"].values()}
    assert {
        ref(comfyui, "aws_sqs_queue", "url", name="comfyui-jobs"),
        ref(comfyui, "aws_sqs_queue", "url", name="comfyui-jobs-dlq"),
        ref(comfyui, "aws_dynamodb_table", "name", name="comfyui-jobs"),
        ref(comfyui, "aws_s3_bucket", "bucket", bucket_prefix="comfyui-jobs-"),
        ref(comfyui, "aws_iam_policy", "arn", name="comfyui-us-east-1-jobs-submitter"),
    } <= values


def test_the_hints_give_the_time_to_zero_instances_and_a_duty_cycle_below_one(comfyui):
    (hints,) = read_hints(comfyui).values()
    (gpu,) = hints.gpu_capacity
    minutes = 30 + 2 + CAPACITY_PROVIDER_SCALE_IN_MINUTES + 2
    assert f"their GPU hosts ~{minutes} min after it" in hints.summary[0]
    assert (gpu.min_hosts, gpu.max_hosts, gpu.typical_hosts) == (0, 8, 3)  # max: a 200% deployment at 4 workers
    assert gpu.duty_cycle == pytest.approx((4 * 60 + minutes) / 1440, abs=1e-4)
    assert (gpu.on_demand_base, gpu.spot_percent) == (0, 100)


# -- variants ---------------------------------------------------------------------------------------------------


def test_bridge_mode_shares_the_host_network_and_honours_the_placement_constraint(stacks):
    stack = stacks["bridge"]
    task = only(stack, "aws_ecs_task_definition")
    assert task["network_mode"] == "bridge"
    assert task["placement_constraints"] == [
        {"expression": "attribute:ecs.instance-type == g6.2xlarge", "type": "memberOf"}
    ]
    assert "network_configuration" not in only(stack, "aws_ecs_service")
    assert len(resources(stack, "aws_security_group")) == 1  # the hosts' only


def test_a_warm_pool_prepulls_the_consumer_image_and_turns_on_the_ecs_warm_pool_check():
    # GIVEN a single-type capacity with a warm pool of 2 stopped hosts
    stack = GpuStack(Testing.app(), "warm", region=REGION)
    warm = spec(name="warm", capacity={"instance_types": ["g6.2xlarge"], "warm_pool": {"min_size": 2}})
    queue = IdleStopGpuQueue(stack, "warm", spec=warm)
    # WHEN synthesized
    tf = json.loads(Testing.synth(stack))
    # THEN the pool never reuses hosts, the hosts pull the consumer image while warming, and the hints count it
    asg = only(tf, "aws_autoscaling_group")
    assert asg["warm_pool"]["min_size"] == 2
    assert asg["warm_pool"]["instance_reuse_policy"] == {"reuse_on_scale_in": False}
    # EC2 refuses a warm pool beside a mixed instances policy: the group names its launch template directly
    assert "mixed_instances_policy" not in asg and asg["launch_template"]["version"] == "$Latest"
    # and each launch waits on a hook until the host has pulled its images (the host may complete it)
    (hook,) = asg["initial_lifecycle_hook"]
    assert (hook["lifecycle_transition"], hook["default_result"]) == ("autoscaling:EC2_INSTANCE_LAUNCHING", "CONTINUE")
    assert f"\nhook={hook['name']}\n" in user_data(tf, only(tf, "aws_launch_template"))
    assert statements(tf, "warm-us-east-1-host-policy")["CompleteLaunch"]["Resource"] == [
        f"arn:aws:autoscaling:{REGION}:*:autoScalingGroup:*:autoScalingGroupName/{asg['name']}"
    ]
    text = user_data(tf, only(tf, "aws_launch_template"))
    assert "ECS_WARM_POOLS_CHECK=true" in text and prepulls(text) == [IMAGE]
    host = statements(tf, "warm-us-east-1-host-policy")
    assert host["EcrPull"]["Resource"] == [f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/render-worker"]
    assert queue.hints().gpu_capacity[0].warm_pool_hosts == 2


def test_without_a_warm_pool_no_image_is_prepulled(comfyui):
    assert "docker pull" not in user_data(comfyui, only(comfyui, "aws_launch_template"))


def test_an_existing_topic_receives_the_alarms(stacks):
    stack = stacks["bridge"]
    assert resources(stack, "aws_sns_topic") == {}
    assert alarm_named(stack, "render-dlq-over-100")["alarm_actions"] == [f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"]


def test_a_queue_you_bring_is_consumed_as_is_and_no_queue_is_created(stacks):
    stack = stacks["byo-queue"]
    assert resources(stack, "aws_sqs_queue") == {} and resources(stack, "aws_sqs_queue_policy") == {}
    env = environment(stack)
    assert env["GPU_JOBS_QUEUE_URL"] == BYO_QUEUE.queue_url
    assert "GPU_JOBS_MAX_RECEIVE_COUNT" not in env  # the worker reads the queue's own redrive policy
    assert statements(stack, "team-us-east-1-task-policy")["ConsumeJobs"]["Resource"] == [BYO_QUEUE.queue_arn]
    assert statements(stack, "team-us-east-1-jobs-submitter")["SendJobs"]["Resource"] == [BYO_QUEUE.queue_arn]
    assert alarm_named(stack, "team-dlq-over-100")["dimensions"] == {"QueueName": "team-jobs-dlq"}
    assert alarm_named(stack, "team-oldest-job-age")["dimensions"] == {"QueueName": "team-jobs"}
    assert only(stack, "aws_dynamodb_table")["name"] == "team-jobs"
    assert not [o for o in stack["output"] if "dlq_url" in o]


def test_two_consumers_can_share_one_job_resources(stacks):
    stack = stacks["shared-jobs"]
    assert len(resources(stack, "aws_sqs_queue")) == 2  # one queue + its DLQ
    assert len(resources(stack, "aws_ecs_service")) == 2
    queue_url = ref(stack, "aws_sqs_queue", "url", name="shared-jobs")
    for family in ("fast", "slow"):
        env = environment(stack, family)
        assert (env["GPU_JOBS_QUEUE_URL"], env["GPU_JOBS_VISIBILITY_TIMEOUT"]) == (queue_url, "1860")
        backlog = alarm_named(stack, f"{family}-backlog")
        assert backlog["metric_query"][0]["metric"]["dimensions"] == {
            "QueueName": ref(stack, "aws_sqs_queue", "name", name="shared-jobs")
        }


def test_two_consumers_of_one_queue_alarm_on_it_once(stacks):
    # GIVEN two consumers of one job stream WHEN synthesized
    stack = stacks["shared-jobs"]
    names = sorted(a["alarm_name"] for a in resources(stack, "aws_cloudwatch_metric_alarm").values())
    # THEN the queue's alarms exist once, named after the queue (a failed job pages once, not once per consumer)
    queue_alarms = [n for n in names if n.startswith("shared-")]
    assert queue_alarms == ["shared-dlq-over-100", "shared-jobs-failed", "shared-oldest-job-age"]
    assert not [n for n in names if n.endswith(("jobs-failed", "dlq-over-100")) and not n.startswith("shared-")]


def test_no_policy_in_any_variant_has_a_wildcard_action(stacks):
    for name, stack in stacks.items():
        for kind in ("aws_iam_role_policy", "aws_iam_policy"):
            for policy in resources(stack, kind).values():
                for statement in json.loads(policy["policy"])["Statement"]:
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    assert not [a for a in actions if "*" in a], (name, policy["name"], actions)


# -- the declared resources carry a job end to end on moto ------------------------------------------------------


def test_a_job_submitted_to_the_declared_resources_is_done_by_a_worker_configured_from_the_task(comfyui, aws_env):
    # GIVEN the stack's queue, DLQ, table and bucket created on moto as declared
    real = create_declared_resources(comfyui)
    env = {k: resolve(v, real) for k, v in environment(comfyui).items()}

    def handler(job: JobContext) -> dict[str, Any]:
        (job.output_dir / "edited.txt").write_text(job.payload["prompt"].upper(), encoding="utf-8")
        return {"ok": True}

    # WHEN a client submits a job and a worker built from the task's environment takes it
    client = JobClient.from_env(env)
    job_id = client.submit("edit", {"prompt": "a red chair"})
    worker = Worker(handler, WorkerConfig.from_env(env, wait_seconds=1))
    assert worker.config.visibility_timeout == 660 and worker.config.max_receive_count == 3
    assert worker.run_once()
    # THEN the job SUCCEEDED with its output under the prefix, and the queue is empty
    record = client.status(job_id)
    assert record.status == "SUCCEEDED"
    assert client.outputs(job_id) == [f"jobs/{job_id}/outputs/edited.txt"]
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=env["GPU_JOBS_QUEUE_URL"], AttributeNames=["All"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert attributes["Attributes"]["VisibilityTimeout"] == "660"


def test_every_aws_call_a_worker_makes_is_allowed_by_the_task_role_on_that_resource(comfyui, aws_env):
    # GIVEN the declared resources on moto, and a worker whose boto3 calls are recorded with their resource
    real = create_declared_resources(comfyui)
    env = {k: resolve(v, real) for k, v in environment(comfyui).items()}
    calls: set[tuple[str, str]] = set()

    def handler(job: JobContext) -> dict[str, Any]:
        (job.output_dir / "out.txt").write_text("done", encoding="utf-8")
        return {"ok": True}

    worker = Worker(handler, WorkerConfig.from_env(env, wait_seconds=0), session=recording_session(calls))
    client, sqs = JobClient.from_env(env), boto3.client("sqs")
    # WHEN it runs one job, then sweeps a job whose message went to the DLQ before anyone recorded a result
    done = client.submit("edit", {"prompt": "x"}, inputs={"image.png": b"png bytes"})
    assert worker.run_once()
    lost = client.submit("edit", {"prompt": "y"})
    (message,) = sqs.receive_message(QueueUrl=env["GPU_JOBS_QUEUE_URL"])["Messages"]
    dlq_url = next(v for (k, a), v in real.items() if a == "url" and v != env["GPU_JOBS_QUEUE_URL"])
    sqs.send_message(QueueUrl=dlq_url, MessageBody=message["Body"])
    sqs.delete_message(QueueUrl=env["GPU_JOBS_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"])
    assert not worker.run_once()
    # THEN both jobs ended, and the task policy allows each action on the resource it was made against
    assert (client.status(done).status, client.status(lost).status) == ("SUCCEEDED", "FAILED")
    assert_allowed(calls, statements(comfyui, "comfyui-us-east-1-task-policy"), real)
    made = {action for action, _ in calls}
    assert made >= {"sqs:GetQueueUrl", "dynamodb:UpdateItem", "s3:GetObject", "s3:PutObject"}


def test_every_aws_call_a_submitter_makes_is_allowed_by_the_submitter_policy(comfyui, aws_env, tmp_path):
    # GIVEN the declared resources on moto, a worker, and a client whose boto3 calls are recorded
    real = create_declared_resources(comfyui)
    env = {k: resolve(v, real) for k, v in environment(comfyui).items()}
    calls: set[tuple[str, str]] = set()
    client = JobClient.from_env(env, session=recording_session(calls))

    def handler(job: JobContext) -> dict[str, Any]:
        (job.output_dir / "edited.png").write_bytes(job.inputs["image.png"].read_bytes()[::-1])
        return {"ok": True}

    # WHEN it submits a job with an input, follows it, downloads its outputs, and cancels another
    done = client.submit("edit", {"prompt": "x"}, inputs={"image.png": b"png bytes"})
    assert Worker(handler, WorkerConfig.from_env(env, wait_seconds=0)).run_once()
    assert client.wait(done, timeout=10).status == "SUCCEEDED"
    assert [p.read_bytes() for p in client.download_outputs(done, tmp_path)] == [b"setyb gnp"]
    assert client.cancel(client.submit("edit", {"prompt": "y"}))
    # THEN the exported submitter policy allows each action on the resource it was made against
    assert_allowed(calls, statements(comfyui, "comfyui-us-east-1-jobs-submitter"), real)
    made = {action for action, _ in calls}
    assert made >= {"sqs:SendMessage", "dynamodb:PutItem", "s3:PutObject", "s3:GetObject", "s3:ListBucket"}


def recording_session(calls: set[tuple[str, str]]) -> boto3.session.Session:
    """A session that adds (IAM action, queue URL or S3 object ARN) to `calls` for every request it makes."""

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        # HeadObject (download_file's first call) is authorised as s3:GetObject, ListObjectsV2 as s3:ListBucket
        action = f"{model.service_model.endpoint_prefix}:{model.name}"
        action = {"s3:HeadObject": "s3:GetObject", "s3:ListObjectsV2": "s3:ListBucket"}.get(action, action)
        s3_object = model.service_model.endpoint_prefix == "s3" and "Key" in params
        target = params.get("QueueUrl") or (f"arn:aws:s3:::{params['Bucket']}/{params['Key']}" if s3_object else "")
        calls.add((action, target))

    session = boto3.session.Session()
    session.events.register("before-parameter-build", record)
    return session


def assert_allowed(
    calls: set[tuple[str, str]], policy: dict[str, dict[str, Any]], real: dict[tuple[str, str], str]
) -> None:
    """Each recorded call is allowed by a statement of `policy` whose resource (tokens resolved) matches it."""
    tokens = {f"${{{k}.arn}}": arn for (k, a), arn in real.items() if a == "arn"}
    tokens |= {f"${{{k}.arn}}": f"arn:aws:s3:::{name}" for (k, a), name in real.items() if a == "bucket"}
    allowed = [
        (action, re.sub(r"\$\{[^}]+\}", lambda m: tokens.get(m.group(0), m.group(0)), arn))
        for statement in policy.values()
        for action in statement["Action"]
        for arn in statement["Resource"]
    ]
    arn_of = {url: real[(k, "arn")] for (k, a), url in real.items() if a == "url"}
    for action, target in sorted(calls):
        resource = arn_of.get(target, target)
        if resource:
            assert any(a == action and fnmatch.fnmatchcase(resource, r) for a, r in allowed), (action, resource)
        else:
            assert any(a == action for a, _ in allowed), action


def create_declared_resources(stack: dict[str, Any]) -> dict[tuple[str, str], str]:
    """Create the stack's queues, table and bucket on moto; map (kind.key, attribute) -> the real value."""
    sqs, suffix = boto3.client("sqs"), uuid.uuid4().hex[:8]
    real: dict[tuple[str, str], str] = {}
    queues = resources(stack, "aws_sqs_queue")
    for key, queue in sorted(queues.items(), key=lambda kv: "redrive_policy" in kv[1]):
        attributes = {
            "MessageRetentionPeriod": str(queue["message_retention_seconds"]),
            "SqsManagedSseEnabled": "true",
            **(
                {"VisibilityTimeout": str(queue["visibility_timeout_seconds"])}
                if "visibility_timeout_seconds" in queue
                else {}
            ),
        }
        if "redrive_policy" in queue:
            dlq_key, count = re.search(
                r"aws_sqs_queue\.(\w+)\.arn, \"maxReceiveCount\" = (\d+)", queue["redrive_policy"]
            ).groups()
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": real[(f"aws_sqs_queue.{dlq_key}", "arn")], "maxReceiveCount": count}
            )
        url = sqs.create_queue(QueueName=f"{queue['name']}-{suffix}", Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        real |= {(f"aws_sqs_queue.{key}", "url"): url, (f"aws_sqs_queue.{key}", "arn"): arn}
    ((table_key, table),) = resources(stack, "aws_dynamodb_table").items()
    boto3.client("dynamodb").create_table(**create_table_request(table, f"{table['name']}-{suffix}"))
    real[(f"aws_dynamodb_table.{table_key}", "name")] = f"{table['name']}-{suffix}"
    ((bucket_key, bucket),) = resources(stack, "aws_s3_bucket").items()
    boto3.client("s3").create_bucket(Bucket=f"{bucket['bucket_prefix']}{suffix}")
    real[(f"aws_s3_bucket.{bucket_key}", "bucket")] = f"{bucket['bucket_prefix']}{suffix}"
    return real


def resolve(value: str, real: dict[tuple[str, str], str]) -> str:
    match = re.fullmatch(r"\$\{(aws_\w+\.\w+)\.(\w+)\}", value)
    return real[(match.group(1), match.group(2))] if match else value


# -- bad input --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        (
            {"capacity": {"instance_types": ["g6.xlarge", "g5.xlarge"], "warm_pool": {}}},
            "capacity.warm_pool",
            "one instance type",
        ),
        (
            {"capacity": {"instance_types": ["g6.xlarge"], "warm_pool": {}, "spot": {}}},
            "capacity.warm_pool",
            "drop spot",
        ),
        (
            {"capacity": {"instance_types": ["g6.xlarge"], "warm_pool": {"reuse_on_scale_in": True}}},
            "reuse_on_scale_in",
            "leave reuse_on_scale_in False",
        ),
        (
            {"capacity": {"instance_types": ["g6.xlarge"], "min_hosts": 1}},
            "capacity.min_hosts",
            "use capacity.warm_pool",
        ),
        (
            {"capacity": {"instance_types": ["g6.xlarge"], "max_hosts": 1}, "max_workers": 3},
            "capacity.max_hosts",
            "max_hosts >= 3",
        ),
        ({"capacity": {"instance_types": ["p9.huge"]}}, "capacity.instance_types", "use one of the families"),
        ({"container": {"image": IMAGE, "gpu": 2}}, "container.gpu", "lower gpu"),
        ({"container": {"image": IMAGE, "environment": {"GPU_JOBS_TABLE": "x"}}}, "container.environment", "drop them"),
        (
            {"region": "us-east-1", "container": {"image": IMAGE, "environment": {"AWS_DEFAULT_REGION": "eu-west-1"}}},
            "container.environment",
            "drop AWS_DEFAULT_REGION",
        ),
        ({"idle_minutes": 0}, "idle_minutes", "greater than or equal to 1"),
        ({"max_workers": 0}, "max_workers", "greater than or equal to 1"),
        ({"jobs": {"job_timeout_seconds": 43200}}, "jobs\n", "at most 43140"),
        (
            {"jobs": {"existing_queue": BYO_QUEUE, "max_receive_count": 5}},
            "max_receive_count",
            "set maxReceiveCount on that queue",
        ),
        ({"jobs": {"prefix": "jobs"}}, "jobs.prefix", "/"),
        ({"start_after_minutes": 5}, "start_after_minutes", "set shares_queue_with"),
        ({"network_mode": "host"}, "network_mode", "'awsvpc' or 'bridge'"),
        ({"name": "Bad_Name"}, "name", "Fix: e.g. 'bad-name'"),
        ({"name": "ecs-edits"}, "name", "Fix: e.g. 'gpu-ecs-edits'"),
        (
            {
                "network": {"nat_gateways": "none", "vpc_endpoints": ["ecr.api", "ecr.dkr", "s3", "logs", "sqs"]},
                "container": {"image": IMAGE, "model_source": {"kind": "huggingface", "repo_id": "org/model"}},
            },
            "container.model_source",
            "use S3ModelSource",
        ),
        (
            {
                "container": {
                    "image": IMAGE,
                    "model_source": {"kind": "s3", "uri": "s3://models-bucket/m/", "size_gib": 80},
                }
            },
            "capacity.root_volume_gib",
            "root_volume_gib >= 130",
        ),
    ],
)
def test_bad_input_raises_one_error_that_names_the_field_and_the_fix(changes, field, fix):
    with pytest.raises(ValidationError) as caught:
        spec(**changes)
    text = str(caught.value)
    assert field in text and fix in text, text


def test_a_valid_spec_derives_hosts_and_the_time_to_zero():
    queue = spec(max_workers=3, idle_minutes=20)
    assert queue.tasks_per_host == 1
    assert queue.max_hosts == 6  # room for a 200% rolling deployment at max_workers
    assert queue.minutes_to_zero_hosts == 20 + 2 + 15 + 2
    assert queue.jobs_spec == JobResourcesSpec(name="edits", job_timeout_seconds=900, max_receive_count=3)
    assert spec(jobs={"name": "own-stream"}).jobs_spec.name == "own-stream"


def test_job_resources_alone_reject_a_timeout_beyond_the_sqs_visibility_limit():
    with pytest.raises(ValidationError, match="job_timeout_seconds: 43141 s"):
        JobResourcesSpec(name="xyz", job_timeout_seconds=43141)
    assert JobResourcesSpec(name="xyz", job_timeout_seconds=43140).visibility_timeout_seconds == 43200


def test_job_resources_take_a_customer_kms_key_for_the_table_and_reject_other_arns():
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert JobResourcesSpec(name="xyz", table_kms_key_arn=key).table_kms_key_arn == key
    with pytest.raises(ValidationError, match="expected a KMS key ARN"):
        JobResourcesSpec(name="xyz", table_kms_key_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q")


def test_a_customer_key_on_the_job_table_is_usable_by_workers_and_submitters_through_dynamodb_only():
    # GIVEN job resources whose table is encrypted with a customer key
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    stack = GpuStack(Testing.app(), "kms", region=REGION)
    jobs = JobResources(stack, "jobs", spec=JobResourcesSpec(name="xyz", table_kms_key_arn=key))
    # WHEN the worker and submitter statements are built
    for role in (jobs.worker_statements("xyz", REGION, ACCOUNT), jobs.submitter_statements()):
        table_key = {s["Sid"]: s for s in role}["JobTableKey"]
        # THEN each may encrypt and decrypt with that key alone, and only when DynamoDB in this region asks
        assert table_key["Action"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        assert table_key["Resource"] == [key]
        assert table_key["Condition"] == {"StringEquals": {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com"}}


def test_the_aws_managed_table_key_needs_no_kms_statement(comfyui):
    for policy in ("comfyui-us-east-1-task-policy", "comfyui-us-east-1-jobs-submitter"):
        assert not [a for s in statements(comfyui, policy).values() for a in s["Action"] if a.startswith("kms:")]


def test_a_token_in_the_consumers_plain_environment_is_a_note_in_the_synth_summary(tmp_path):
    # GIVEN a queue whose consumer gets an API token as plain environment
    from sdk.specs import SecretInEnvironmentWarning
    from sdk.synth import summary_lines

    container = {**VALID["container"], "environment": {"HF_TOKEN": "hf_abc", "HF_HUB_OFFLINE": "1"}}
    with pytest.warns(SecretInEnvironmentWarning, match="HF_TOKEN"):
        queue_spec = spec(container=container)
    # WHEN it is synthesized and summarized as `python -m sdk synth` prints it
    app = App(outdir=str(tmp_path))
    IdleStopGpuQueue(GpuStack(app, "tokens", region=REGION), "edits", spec=queue_spec)
    app.synth()
    tf = load_stack(tmp_path / "stacks", "tokens")
    # THEN the blueprint's notes name the variable and point to container.secrets
    notes = [line for line in summary_lines("tokens", tf) if "HF_TOKEN" in line]
    assert len(notes) == 1 and "HF_HUB_OFFLINE" not in notes[0] and "container.secrets" in notes[0]


def test_a_passed_in_job_stream_with_a_conflicting_jobs_spec_is_rejected_by_name():
    # GIVEN a job stream with a 1800 s job timeout
    stack = GpuStack(Testing.app(), "conflict", region=REGION)
    jobs = JobResources(stack, "jobs", spec=JobResourcesSpec(name="shared", job_timeout_seconds=1800))
    # WHEN a queue is given it together with a jobs spec that says 900 s
    with pytest.raises(ValidationError) as caught:
        IdleStopGpuQueue(stack, "edits", spec=spec(jobs={"job_timeout_seconds": 900}), jobs=jobs)
    # THEN one error names jobs, the conflicting field and the fix; the same timeout, or none, is accepted
    text = str(caught.value)
    assert "jobs" in text and "job_timeout_seconds differ" in text and "Fix: set them on that" in text, text
    IdleStopGpuQueue(stack, "same", spec=spec(name="same", jobs={"job_timeout_seconds": 1800}), jobs=jobs)


def test_a_second_consumer_declares_its_start_delay_and_scales_only_on_its_own_jobs():
    # GIVEN a queue that shares its jobs with "main" and starts after 10 minutes
    stack = GpuStack(Testing.app(), "second", region=REGION)
    IdleStopGpuQueue(stack, "fb", spec=spec(name="edits-fb", shares_queue_with="main", start_after_minutes=10))
    # WHEN it is synthesized
    alarms = {
        a["alarm_name"]: a for a in json.loads(Testing.synth(stack))["resource"]["aws_cloudwatch_metric_alarm"].values()
    }
    # THEN its backlog alarm waits for a job older than 600 s and its idle alarm leaves main's tasks out
    backlog = next(q for q in alarms["edits-fb-backlog"]["metric_query"] if q.get("return_data"))["expression"]
    assert backlog == "IF(FILL(age, 0) > 600, FILL(visible, 0) + FILL(own_running, 0), 0)"
    idle = next(q for q in alarms["edits-fb-idle"]["metric_query"] if q.get("return_data"))["expression"]
    assert "FILL(in_flight, 0) - FILL(other_running, 0)" in idle
    assert alarms["edits-fb-backlog"]["alarm_description"].startswith("A job waited past start_after")


def test_the_example_gateway_runs_on_the_queues_own_job_resources_and_alarms_to_its_topic(comfyui):
    # GIVEN the comfyui example (gateway with a JWT authorizer)
    (function,) = comfyui["resource"]["aws_lambda_function"].values()
    env = function["environment"]["variables"]
    # THEN the handler talks to this queue, table and bucket, with the queue's submitter policy and alarm topic
    assert env["GPU_JOBS_QUEUE_URL"] == ref(comfyui, "aws_sqs_queue", "url", name="comfyui-jobs")
    assert env["GPU_JOBS_TABLE"].startswith("${aws_dynamodb_table.") and env["GPU_JOBS_PREFIX"] == "jobs/"
    attachments = [a["policy_arn"] for a in comfyui["resource"]["aws_iam_role_policy_attachment"].values()]
    assert ref(comfyui, "aws_iam_policy", "arn", name="comfyui-us-east-1-jobs-submitter") in attachments
    assert alarm_named(comfyui, "comfyui-gateway-5xx")["alarm_actions"] == [ref(comfyui, "aws_sns_topic", "arn")]
    assert "comfyui_gateway_api_url" in comfyui["output"]


def test_without_a_gateway_spec_no_api_is_created(stacks):
    assert "aws_apigatewayv2_api" not in stacks["bridge"]["resource"]


def test_the_dashboard_shows_the_queue_the_jobs_outcomes_and_durations_then_workers_hosts_and_gpus(comfyui):
    # GIVEN the comfyui example WHEN its dashboard is read
    body = json.loads(only(comfyui, "aws_cloudwatch_dashboard")["dashboard_body"])
    widgets = {w["properties"]["title"]: w["properties"] for w in body["widgets"]}
    # THEN the queue comes first, then the workers (tasks), hosts and GPUs
    assert list(widgets)[:5] == [
        "Jobs waiting (visible) and running (in flight)",
        "Oldest job age",
        "Jobs started / succeeded / failed",
        "Job duration",
        "Dead-letter queue depth",
    ]
    assert {"Tasks: running vs desired", "GPU hosts", "GPU utilisation (group average)"} <= set(widgets)
    # AND the job lines are the worker's EMF metrics of this queue, as the jobs-failed alarm reads them
    queue = ref(comfyui, "aws_sqs_queue", "name", name="comfyui-jobs")
    outcomes = widgets["Jobs started / succeeded / failed"]["metrics"]
    assert [line[:4] for line in outcomes] == [
        ["GpuBlueprints/Jobs", name, "Queue", queue] for name in ("JobsStarted", "JobsSucceeded", "JobsFailed")
    ]
    failed = next(
        a for a in resources(comfyui, "aws_cloudwatch_metric_alarm").values() if a.get("metric_name") == "JobsFailed"
    )
    assert (failed["namespace"], failed["dimensions"]) == ("GpuBlueprints/Jobs", {"Queue": queue})
    durations = widgets["Job duration"]["metrics"]
    assert [(line[1], line[-1]["stat"]) for line in durations] == [
        ("JobDuration", "p50"),
        ("JobDuration", "p95"),
        ("JobDuration", "Maximum"),
    ]
    # AND the DLQ widget reads the DLQ and draws the alarm's bound
    dlq = widgets["Dead-letter queue depth"]
    assert dlq["metrics"][0][3] == ref(comfyui, "aws_sqs_queue", "name", name="comfyui-jobs-dlq")
    assert dlq["annotations"]["horizontal"] == [{"label": "alarm", "value": SWEEP_LIMIT}]


def test_a_warm_pool_queue_shows_its_warm_hosts_from_group_metrics_the_group_enables():
    # GIVEN the validation renderer, whose queue keeps a warm pool
    stack = synth_app("examples")["renderer-validation"]
    group = only(stack, "aws_autoscaling_group")
    # WHEN its dashboard and group are read
    body = json.loads(only(stack, "aws_cloudwatch_dashboard")["dashboard_body"])
    hosts = next(w["properties"] for w in body["widgets"] if w["properties"]["title"].startswith("GPU hosts"))
    # THEN the hosts widget adds the warm pool, and the group enables exactly the metrics it reads, every minute
    assert hosts["title"] == "GPU hosts (and warm pool)"
    assert [line[1] for line in hosts["metrics"]] == group["enabled_metrics"]
    assert group["enabled_metrics"] == ["GroupInServiceInstances", "GroupDesiredCapacity", "WarmPoolWarmedCapacity"]
    assert group["metrics_granularity"] == "1Minute"
