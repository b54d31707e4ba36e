"""AlbInferenceService: each feature of the issue, asserted on the synthesized example stacks."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from blueprints.alb_inference import AlbInferenceService, AlbInferenceSpec
from sdk.constructs.engine import Testing
from sdk.constructs.stack import GpuStack
from sdk.hints import read_hints
from sdk.tfjson import load_stack, resources
from tests.blueprints.conftest import only, user_data

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f5c8a3e-1111-4d2b-9a9e-5d1e2c3b4a55"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"


@pytest.fixture(scope="module")
def sdxl(example_stacks) -> dict[str, Any]:
    return example_stacks["sdxl-public"]


@pytest.fixture(scope="module")
def llm(example_stacks) -> dict[str, Any]:
    return example_stacks["llm-internal"]


def test_a_created_vpc_spans_two_azs_with_public_and_private_subnets_and_a_nat_per_az(sdxl):
    subnets = resources(sdxl, "aws_subnet").values()
    tiers = sorted(s["tags"]["tier"] for s in subnets)
    assert tiers == ["private", "private", "public", "public"]
    assert all(s.get("map_public_ip_on_launch", False) is False for s in subnets)
    assert len(resources(sdxl, "aws_nat_gateway")) == 2
    assert only(sdxl, "aws_flow_log")["traffic_type"] == "ALL"
    assert "ingress" not in only(sdxl, "aws_default_security_group")


def test_the_internal_service_reaches_aws_over_vpc_endpoints_without_nat(llm):
    endpoints = {
        e["service_name"].rsplit(".", 1)[-1]
        if "ecr" not in e["service_name"]
        else e["service_name"].split("us-east-1.")[1]: e
        for e in resources(llm, "aws_vpc_endpoint").values()
    }
    assert {"ecr.api", "ecr.dkr", "s3", "logs", "sts"} <= set(endpoints)
    assert endpoints["s3"]["vpc_endpoint_type"] == "Gateway"
    assert endpoints["ecr.dkr"]["private_dns_enabled"] is True
    assert resources(llm, "aws_nat_gateway") == {}
    assert only(llm, "aws_lb")["internal"] is True


def test_launch_template_uses_the_al2023_gpu_ami_imdsv2_and_an_encrypted_gp3_root(sdxl):
    lt = only(sdxl, "aws_launch_template")
    ami = sdxl["data"]["aws_ssm_parameter"]
    assert [p["name"] for p in ami.values()] == [
        "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
    ]
    assert lt["metadata_options"]["http_tokens"] == "required"
    ebs = lt["block_device_mappings"][0]["ebs"]
    assert (ebs["volume_type"], ebs["encrypted"]) == ("gp3", "true")


def test_user_data_joins_the_cluster_with_gpu_support_and_spot_draining(sdxl):
    text = user_data(sdxl, only(sdxl, "aws_launch_template"))
    for line in (
        "ECS_CLUSTER=sdxl",
        "ECS_ENABLE_GPU_SUPPORT=true",
        "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true",
        "ECS_IMAGE_CLEANUP_INTERVAL=30m",
    ):
        assert line in text
    assert "ECS_WARM_POOLS_CHECK" not in text


def test_asg_falls_back_over_ordered_gpu_types_with_spot_above_an_on_demand_base(sdxl):
    asg = only(sdxl, "aws_autoscaling_group")
    policy = asg["mixed_instances_policy"]
    assert [o["instance_type"] for o in policy["launch_template"]["override"]] == [
        "g5.2xlarge",
        "g6.2xlarge",
        "g4dn.2xlarge",
    ]
    dist = policy["instances_distribution"]
    assert (dist["on_demand_base_capacity"], dist["on_demand_percentage_above_base_capacity"]) == (1, 0)
    assert dist["on_demand_allocation_strategy"] == "prioritized"
    assert asg["capacity_rebalance"] is True
    assert len(asg["vpc_zone_identifier"]) == 2


def test_capacity_provider_managed_scaling_is_wired_as_aws_requires(sdxl):
    asg = only(sdxl, "aws_autoscaling_group")
    cp = only(sdxl, "aws_ecs_capacity_provider")["auto_scaling_group_provider"]
    assert cp["managed_termination_protection"] == "ENABLED"
    assert asg["protect_from_scale_in"] is True
    assert cp["managed_scaling"]["status"] == "ENABLED"
    assert {"key": "AmazonECSManaged", "value": "true", "propagate_at_launch": True} in asg["tag"]
    assert asg["lifecycle"]["ignore_changes"] == ["desired_capacity"]


def test_asg_bounds_come_from_tasks_times_gpus_per_task_over_gpus_per_host(sdxl):
    # 6 max tasks, 1 GPU each, 1 GPU per host, 200% deployments -> 12 hosts
    assert only(sdxl, "aws_autoscaling_group")["max_size"] == 12
    hint = next(iter(read_hints(sdxl).values())).gpu_capacity[0]
    assert (hint.tasks_per_host, hint.max_hosts) == (1, 12)


def test_task_asks_for_a_gpu_with_awsvpc_readonly_root_and_no_privileges(sdxl):
    td = only(sdxl, "aws_ecs_task_definition")
    [container] = json.loads(td["container_definitions"])
    assert td["network_mode"] == "awsvpc"
    assert container["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
    assert container["readonlyRootFilesystem"] is True and container["privileged"] is False
    assert "SYS_ADMIN" not in json.dumps(container) and "devices" not in container["linuxParameters"]
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert container["healthCheck"]["command"][0] == "CMD-SHELL"
    exec_paths = {"/var/lib/amazon/ssm", "/var/log/amazon/ssm", "/managed-agents"}
    assert {m["containerPath"] for m in container["mountPoints"]} == {"/tmp", "/models", *exec_paths}


def test_ecs_exec_can_start_on_the_read_only_root_and_log_its_sessions(sdxl):
    # GIVEN the SDXL service with ECS Exec on (the default) and cluster Exec logging DEFAULT
    assert only(sdxl, "aws_ecs_service")["enable_execute_command"] is True
    assert only(sdxl, "aws_ecs_cluster")["configuration"]["execute_command_configuration"]["logging"] == "DEFAULT"
    td = only(sdxl, "aws_ecs_task_definition")
    [container] = json.loads(td["container_definitions"])
    # THEN the SSM agent's folders are writable task-scoped volumes of the task definition
    volumes = {v["name"] for v in td["volume"]}
    writable = {m["containerPath"]: m["sourceVolume"] for m in container["mountPoints"] if not m["readOnly"]}
    for path in ("/var/lib/amazon/ssm", "/var/log/amazon/ssm", "/managed-agents"):
        assert writable[path] in volumes, path
    # AND the task role may write session output to the task's own log group
    policies = {p["name"]: json.loads(p["policy"]) for p in resources(sdxl, "aws_iam_role_policy").values()}
    task = {s["Sid"]: s for s in policies["sdxl-us-east-1-task-policy"]["Statement"]}
    session = task["EcsExecSessionLogs"]
    assert session["Action"] == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    log_group = next(iter(resources(sdxl, "aws_cloudwatch_log_group")))
    ecs_group = [k for k, g in resources(sdxl, "aws_cloudwatch_log_group").items() if g["name"] == "/ecs/sdxl"]
    assert session["Resource"] == [f"${{aws_cloudwatch_log_group.{ecs_group[0]}.arn}}:*"], log_group
    assert task["EcsExecLogGroups"]["Action"] == ["logs:DescribeLogGroups"]
    assert (
        container["logConfiguration"]["options"]["awslogs-group"]
        == f"${{aws_cloudwatch_log_group.{ecs_group[0]}.name}}"
    )


def test_the_task_is_told_the_stack_region(sdxl):
    [container] = json.loads(only(sdxl, "aws_ecs_task_definition")["container_definitions"])
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert (env["AWS_REGION"], env["AWS_DEFAULT_REGION"]) == ("us-east-1", "us-east-1")


def test_service_rolls_back_broken_deployments_and_spreads_over_azs(sdxl):
    svc = only(sdxl, "aws_ecs_service")
    assert svc["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert (svc["deployment_minimum_healthy_percent"], svc["deployment_maximum_percent"]) == (100, 200)
    assert svc["ordered_placement_strategy"][0] == {"type": "spread", "field": "attribute:ecs.availability-zone"}
    assert svc["enable_execute_command"] is True and svc["propagate_tags"] == "SERVICE"
    assert svc["health_check_grace_period_seconds"] == 180 + 144  # load + 7 GiB from the Hub at 50 MiB/s
    assert svc["capacity_provider_strategy"][0]["capacity_provider"].startswith("${aws_ecs_capacity_provider.")
    cluster = only(sdxl, "aws_ecs_cluster")
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]


def test_alb_serves_tls13_redirects_http_and_drops_invalid_headers(sdxl):
    lb = only(sdxl, "aws_lb")
    assert lb["drop_invalid_header_fields"] is True and lb["enable_deletion_protection"] is True
    assert lb["access_logs"]["enabled"] is True
    listeners = {l_["port"]: l_ for l_ in resources(sdxl, "aws_lb_listener").values()}
    assert listeners[443]["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[443]["certificate_arn"].startswith("arn:aws:acm:us-east-1:")
    assert listeners[80]["default_action"][0]["redirect"]["protocol"] == "HTTPS"
    # blue and green (blue/green deployment) target groups check health alike
    groups = resources(sdxl, "aws_lb_target_group").values()
    assert [(tg["health_check"]["path"], tg["health_check"]["matcher"], tg["target_type"]) for tg in groups] == [
        ("/healthz", "200", "ip")
    ] * 2


def test_tasks_accept_traffic_only_from_the_alb_and_the_alb_only_from_allowed_cidrs(llm):
    rules = resources(llm, "aws_vpc_security_group_ingress_rule").values()
    alb_sg = next(k for k, v in resources(llm, "aws_security_group").items() if v["name"] == "llm-internal-alb")
    alb_rules = [r for r in rules if alb_sg in r["security_group_id"]]
    assert sorted(r["from_port"] for r in alb_rules) == [80, 443]
    assert {r["cidr_ipv4"] for r in alb_rules} == {"10.0.0.0/8"}
    task_rules = [r for r in rules if r["from_port"] == 8000]
    assert len(task_rules) == 1 and "referenced_security_group_id" in task_rules[0]
    assert "cidr_ipv4" not in task_rules[0]


def test_scaling_tracks_requests_per_target_from_the_rps_figure_and_cpu(sdxl):
    policies = {
        p["target_tracking_scaling_policy_configuration"]["predefined_metric_specification"][
            "predefined_metric_type"
        ]: p
        for p in resources(sdxl, "aws_appautoscaling_policy").values()
    }
    requests = policies["ALBRequestCountPerTarget"]["target_tracking_scaling_policy_configuration"]
    assert requests["target_value"] == 0.5 * 60 * 0.7  # rps per task x 60 s x 70% utilisation
    assert (
        policies["ECSServiceAverageCPUUtilization"]["target_tracking_scaling_policy_configuration"]["target_value"]
        == 70
    )
    target = only(sdxl, "aws_appautoscaling_target")
    assert (target["min_capacity"], target["max_capacity"]) == (1, 6)


def test_the_llm_example_also_tracks_the_groups_average_gpu_utilisation(llm, sdxl):
    # GIVEN llm-internal with gpu_utilisation_target=80, and sdxl-public without one
    def tracked(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
        configs = [
            p["target_tracking_scaling_policy_configuration"]
            for p in resources(stack, "aws_appautoscaling_policy").values()
        ]
        return {
            c["customized_metric_specification"]["metric_name"]: c
            for c in configs
            if "customized_metric_specification" in c
        }

    # WHEN synthesized THEN llm tracks nvidia_smi_utilization_gpu averaged over its GPU group at 80%
    gpu = tracked(llm)["nvidia_smi_utilization_gpu"]
    assert gpu["target_value"] == 80
    assert gpu["customized_metric_specification"] == {
        "namespace": "GpuBlueprints",
        "metric_name": "nvidia_smi_utilization_gpu",
        "statistic": "Average",
        "dimensions": [{"name": "AutoScalingGroupName", "value": only(llm, "aws_autoscaling_group")["name"]}],
    }
    # AND beside the request and CPU policies (three target-tracking policies in all)
    assert len(resources(llm, "aws_appautoscaling_policy")) == 3
    # AND sdxl has no GPU policy
    assert tracked(sdxl) == {}


def test_the_dashboard_shows_traffic_latency_against_the_budget_errors_targets_tasks_hosts_and_gpus(llm):
    # GIVEN the llm example (p95 budget 2500 ms, 5xx alarm at 5%, GPU target 80%)
    body = json.loads(only(llm, "aws_cloudwatch_dashboard")["dashboard_body"])
    widgets = {w["properties"]["title"]: w["properties"] for w in body["widgets"]}
    # WHEN its widgets are read THEN the on-call order is traffic first, then the service, hosts and GPUs
    assert list(widgets) == [
        "Requests",
        "Target latency p50/p95/p99",
        "4xx / 5xx responses",
        "Target 5xx rate",
        "Targets: healthy vs unhealthy",
        "Tasks: running vs desired",
        "GPU hosts",
        "GPU utilisation (group average)",
        "GPU memory used (fullest GPU)",
    ]
    latency = widgets["Target latency p50/p95/p99"]
    assert [line[-1]["stat"] for line in latency["metrics"]] == ["p50", "p95", "p99"]
    assert latency["annotations"]["horizontal"] == [{"label": "p95 budget", "value": 2.5}]
    # AND the 5xx rate is the alarm's own metric math, with the alarm's bound drawn
    alarm = next(
        a for a in resources(llm, "aws_cloudwatch_metric_alarm").values() if a["alarm_name"].endswith("5xx-rate")
    )
    rate = widgets["Target 5xx rate"]
    expression = next(q for q in alarm["metric_query"] if "expression" in q)
    assert [{"expression": expression["expression"], "id": "rate", "label": "5xx percent"}] in rate["metrics"]
    assert rate["annotations"]["horizontal"] == [{"label": "alarm", "value": 5.0}]
    # AND the GPU utilisation widget draws the scaling target
    assert widgets["GPU utilisation (group average)"]["annotations"]["horizontal"][0]["value"] == 80


def test_a_service_without_a_dashboard_emits_none_and_no_group_metrics():
    # GIVEN a spec with dashboard=False WHEN synthesized
    stack = synth_spec(AlbInferenceSpec.model_validate(base_spec(dashboard=False)))
    # THEN there is no dashboard, no URL output and the group collects no metrics
    assert resources(stack, "aws_cloudwatch_dashboard") == {}
    assert not [o for o in stack["output"] if o.endswith("dashboard_url")]
    assert "enabled_metrics" not in only(stack, "aws_autoscaling_group")


def test_task_role_holds_only_the_typed_grants_and_the_execution_role_only_its_repo_and_logs(sdxl):
    policies = {p["name"]: json.loads(p["policy"]) for p in resources(sdxl, "aws_iam_role_policy").values()}
    task = policies["sdxl-us-east-1-task-policy"]["Statement"]
    put = next(s for s in task if "s3:PutObject" in s["Action"])
    assert put["Resource"] == ["arn:aws:s3:::sdxl-generated-images/outputs/*"]
    assert "Condition" not in put  # an encryption-header condition would deny multipart uploads
    execution = policies["sdxl-us-east-1-execution-policy"]["Statement"]
    pull = next(s for s in execution if s["Sid"] == "EcrPull")
    assert pull["Resource"] == ["arn:aws:ecr:us-east-1:123456789012:repository/sdxl-server"]
    logs = next(s for s in execution if s["Sid"] == "Logs")
    assert logs["Resource"][0].startswith("${aws_cloudwatch_log_group.")


def test_alarms_cover_missing_tasks_5xx_rate_p95_latency_and_unhealthy_targets(sdxl):
    alarms = {a["alarm_name"]: a for a in resources(sdxl, "aws_cloudwatch_metric_alarm").values()}
    assert {"sdxl-running-below-desired", "sdxl-5xx-rate", "sdxl-p95-latency", "sdxl-unhealthy-targets"} <= set(alarms)
    assert alarms["sdxl-p95-latency"]["extended_statistic"] == "p95"
    assert alarms["sdxl-p95-latency"]["threshold"] == 8.0
    topic = only(sdxl, "aws_sns_topic")
    assert alarms["sdxl-5xx-rate"]["alarm_actions"] == [
        f"${{aws_sns_topic.{next(iter(resources(sdxl, 'aws_sns_topic')))}.arn}}"
    ]
    assert topic["kms_master_key_id"].startswith("${aws_kms_key.")


def test_the_internal_llm_reads_its_model_from_s3_over_the_gateway_endpoint_into_a_host_shared_cache(llm):
    # GIVEN the internal example (no NAT) with an S3 model source of 15 GiB under a customer key
    td = only(llm, "aws_ecs_task_definition")
    [container] = json.loads(td["container_definitions"])
    env = {e["name"]: e["value"] for e in container["environment"]}
    # THEN the container is told where the model is and where to put it, on a writable host-shared volume
    assert env["MODEL_S3_URI"] == "s3://llm-models-123456789012/meta-llama/Llama-3.1-8B-Instruct/"
    assert env["MODEL_DIR"] == "/models/llm-models-123456789012/meta-llama/Llama-3.1-8B-Instruct"
    assert not {"HF_TOKEN", "HF_HOME", "MODEL"} & set(env)
    mount = next(m for m in container["mountPoints"] if m["sourceVolume"] == "model-cache")
    assert (mount["containerPath"], mount["readOnly"]) == ("/models", False)
    volume = next(v for v in td["volume"] if v["name"] == "model-cache")
    assert volume["docker_volume_configuration"]["scope"] == "shared"
    # AND the task role reads that prefix only, and decrypts through S3 only
    policies = {p["name"]: json.loads(p["policy"]) for p in resources(llm, "aws_iam_role_policy").values()}
    task = {tuple(s["Action"]): s for s in policies["llm-internal-us-east-1-task-policy"]["Statement"]}
    prefix = "arn:aws:s3:::llm-models-123456789012/meta-llama/Llama-3.1-8B-Instruct/*"
    assert task[("s3:GetObject",)]["Resource"] == [prefix]
    assert task[("s3:ListBucket",)]["Condition"] == {
        "StringLike": {"s3:prefix": ["meta-llama/Llama-3.1-8B-Instruct/*"]}
    }
    assert task[("kms:Decrypt",)]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    # AND the grace covers 180 s of loading plus 15 GiB at 80 MiB/s; the container start period stops at ECS's 300 s
    assert only(llm, "aws_ecs_service")["health_check_grace_period_seconds"] == 180 + 192
    assert container["healthCheck"]["startPeriod"] == 300
    notes = next(iter(read_hints(llm).values())).review_notes
    assert any("s3 gateway endpoint" in n and "us-east-1 only" in n for n in notes)


def test_the_public_sdxl_service_pulls_a_pinned_hub_model_into_hf_home_and_is_warned_about_gating(sdxl):
    # GIVEN the public example with a Hub source of 7 GiB, pinned, no token
    [container] = json.loads(only(sdxl, "aws_ecs_task_definition")["container_definitions"])
    env = {e["name"]: e["value"] for e in container["environment"]}
    # THEN the hub client caches under the writable volume and loads the pinned commit
    assert env["HF_HOME"] == "/models" and env["MODEL_ID"] == "stabilityai/stable-diffusion-xl-base-1.0"
    assert env["MODEL_REVISION"] == "462165984030d82259a11f4367a4eed129e94a7b"
    assert container["secrets"] == [] and container["healthCheck"]["startPeriod"] == 120 + 144
    # AND the task role gains no AWS grant for it, and the reviewer is told a gated repo would need a token
    policies = {p["name"]: json.loads(p["policy"]) for p in resources(sdxl, "aws_iam_role_policy").values()}
    assert not [s for s in policies["sdxl-us-east-1-task-policy"]["Statement"] if "s3:GetObject" in s["Action"]]
    hints = next(iter(read_hints(sdxl).values()))
    assert any("without a Hub token" in n for n in hints.review_notes)
    assert any(line.startswith("health-check grace 324 s") for line in hints.summary)


def test_a_grace_the_user_sets_wins_over_the_derived_one():
    # GIVEN a 20 GiB Hub model (410 s at 50 MiB/s) and a hand-set 600 s grace
    hub = {"kind": "huggingface", "repo_id": "org/model", "size_gib": 20}
    derived = AlbInferenceSpec.model_validate(base_spec(**{"container.model_source": hub}))
    manual = AlbInferenceSpec.model_validate(
        base_spec(**{"container.model_source": hub, "scaling.health_check_grace_seconds": 600})
    )
    # WHEN the grace is read THEN the derived one is load + download, the set one is kept
    assert derived.health_check_grace_seconds == 180 + 410
    assert manual.health_check_grace_seconds == 600
    assert AlbInferenceSpec.model_validate(base_spec()).health_check_grace_seconds == 180


def test_outputs_name_the_alb_dns_service_and_cluster(sdxl):
    # GIVEN the SDXL example WHEN synthesized THEN its outputs have stable names (no hash suffix)
    assert {"sdxl_alb_dns_name", "sdxl_service_name", "sdxl_cluster_name"} <= set(sdxl["output"])


def base_spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "svc",
        "capacity": {"instance_types": ["g5.xlarge"]},
        "container": {"image": IMAGE, "port": 8080, "gpu": 1, "cpu": 2048, "memory_mib": 8192},
        "alb": {"certificate_arn": CERT, "allowed_cidrs": ["0.0.0.0/0"]},
    }
    for path, value in changes.items():
        node = spec
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return spec


def synth_spec(spec: AlbInferenceSpec) -> dict[str, Any]:
    stack = GpuStack(Testing.app(), "s", region="us-east-1")
    AlbInferenceService(stack, "svc", spec=spec)
    return json.loads(Testing.synth(stack))


BAD_INPUT = [
    ("more GPUs than any type offers", {"container.gpu": 2}, "container.gpu"),
    ("more GPU memory than offered", {"container.gpu_memory_mib": 40000}, "container.gpu_memory_mib"),
    ("more vCPU than offered", {"container.cpu": 8192}, "container.cpu"),
    ("more memory than offered", {"container.memory_mib": 16384}, "container.memory_mib"),
    ("fractional GPU on a whole-GPU type", {"container.gpu": 0.5}, "container.gpu"),
    ("whole GPU on a fractional type", {"capacity.instance_types": ["g6f.xlarge"]}, "container.gpu"),
    ("a single AZ", {"network.az_count": 1}, "network.az_count"),
    (
        "certificate from another region",
        {"region": "us-east-1", "alb.certificate_arn": CERT.replace("us-east-1", "eu-west-1")},
        "alb.certificate_arn",
    ),
    ("health-check path without a slash", {"alb.health_check_path": "healthz"}, "alb.health_check_path"),
    ("min tasks above max tasks", {"scaling.min_tasks": 5, "scaling.max_tasks": 2}, "scaling.min_tasks"),
    (
        "GPU scaling without GPU metrics",
        {"scaling.gpu_utilisation_target": 70, "capacity.gpu_metrics": {"enabled": False}},
        "scaling.gpu_utilisation_target",
    ),
    ("unknown instance type", {"capacity.instance_types": ["g9.huge"]}, "capacity.instance_types"),
    ("no container port", {"container.port": None}, "container.port"),
    ("malformed CIDR", {"alb.allowed_cidrs": ["10.0.0.0/33"]}, "alb.allowed_cidrs"),
    ("too few hosts for max tasks", {"capacity.max_hosts": 1, "scaling.max_tasks": 3}, "capacity.max_hosts"),
    (
        "subnets without their VPC",
        {"network.private_subnet_ids": ["subnet-11111111", "subnet-22222222"]},
        "network.vpc_id",
    ),
    (
        "existing VPC with one public subnet",
        {
            "network.vpc_id": "vpc-0a1b2c3d",
            "network.private_subnet_ids": ["subnet-11111111", "subnet-22222222"],
            "network.public_subnet_ids": ["subnet-33333333"],
        },
        "network.public_subnet_ids",
    ),
    ("no NAT and no endpoints", {"network.nat_gateways": "none"}, "network.nat_gateways"),
    (
        "warm pool with several types",
        {"capacity.instance_types": ["g5.xlarge", "g6.xlarge"], "capacity.warm_pool": {"min_size": 1}},
        "capacity.warm_pool",
    ),
    (
        "secret from an S3 ARN",
        {"container.secrets": [{"name": "TOKEN", "value_from": "arn:aws:s3:::b/k"}]},
        "value_from",
    ),
    ("log retention CloudWatch does not offer", {"container.log_retention_days": 45}, "log_retention_days"),
    (
        "existing VPC with GPU hosts in one subnet",
        {
            "network.vpc_id": "vpc-0a1b2c3d",
            "network.private_subnet_ids": ["subnet-11111111"],
            "alb.internal": False,
            "network.public_subnet_ids": ["subnet-22222222", "subnet-33333333"],
        },
        "network.private_subnet_ids",
    ),
    (
        "a subnet listed twice",
        {
            "network.vpc_id": "vpc-0a1b2c3d",
            "network.private_subnet_ids": ["subnet-11111111", "subnet-11111111"],
            "network.public_subnet_ids": ["subnet-22222222", "subnet-33333333"],
        },
        "network.private_subnet_ids",
    ),
    ("min hosts above max hosts", {"capacity.min_hosts": 9, "capacity.max_hosts": 8}, "capacity.min_hosts"),
    ("min hosts above what max tasks need", {"capacity.min_hosts": 20}, "capacity.min_hosts"),
    ("an instance type listed twice", {"capacity.instance_types": ["g5.xlarge", "g5.xlarge"]}, "instance_types"),
    ("an IPv6 CIDR on the IPv4 ALB", {"alb.allowed_cidrs": ["::/0"]}, "alb.allowed_cidrs"),
    ("a name ECS reserves", {"name": "ecs-svc"}, "name"),
    ("a name too long for the log bucket prefix", {"name": "a" * 28}, "name"),
    ("a certificate that is not an ACM ARN", {"alb.certificate_arn": "my-cert"}, "alb.certificate_arn"),
    ("a TLS policy that allows TLS 1.0", {"alb.ssl_policy": "ELBSecurityPolicy-2016-08"}, "alb.ssl_policy"),
    ("health checks as often as they time out", {"alb.health_check_interval_seconds": 5}, "interval_seconds"),
    (
        "a variable that is also a secret",
        {
            "container.environment": {"TOKEN": "x"},
            "container.secrets": [{"name": "TOKEN", "value_from": "arn:aws:ssm:us-east-1:123456789012:parameter/t"}],
        },
        "container.environment",
    ),
    (
        "two volumes on one path",
        {"container.volumes": [{"name": "a", "container_path": "/tmp"}]},
        "container.volumes",
    ),
    (
        "a region variable naming another region",
        {"region": "us-east-1", "container.environment": {"AWS_REGION": "eu-west-1"}},
        "AWS_REGION",
    ),
    ("/dev/shm as large as the task memory", {"container.shared_memory_mib": 8192}, "shared_memory_mib"),
    ("agent setting that is not ECS_*", {"capacity.ecs_agent_config": {"loglevel": "debug"}}, "ecs_agent_config"),
    (
        "a Hub model in a VPC without NAT",
        {
            "network.nat_gateways": "none",
            "network.vpc_endpoints": ["ecr.api", "ecr.dkr", "s3", "logs"],
            "container.model_source": {"kind": "huggingface", "repo_id": "meta-llama/Llama-3.1-8B-Instruct"},
        },
        "container.model_source",
    ),
    (
        "a model cache larger than the root volume",
        {"container.model_source": {"kind": "s3", "uri": "s3://models-bucket/m/", "size_gib": 60}},
        "capacity.root_volume_gib",
    ),
    (
        "a model source variable also set by hand",
        {
            "container.environment": {"MODEL_S3_URI": "s3://x/y/"},
            "container.model_source": {"kind": "s3", "uri": "s3://models-bucket/m/"},
        },
        "container.environment",
    ),
    (
        "agent setting that would break the user data",
        {"capacity.ecs_agent_config": {"ECS_LOGLEVEL": "debug\nrm -rf /"}},
        "ecs_agent_config",
    ),
]


@pytest.mark.parametrize(("case", "changes", "field"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_raises_one_validation_error_naming_the_field_and_the_fix(case, changes, field):
    # GIVEN a valid spec with one mistake WHEN it is validated
    with pytest.raises(ValidationError) as error:
        AlbInferenceSpec.model_validate(base_spec(**changes))
    # THEN one ValidationError names the field (and, for our own rules, says how to fix it)
    message = str(error.value)
    assert field in message, message
    assert error.value.error_count() == 1, message
    assert "Fix:" in message, message


def test_the_base_spec_of_the_bad_input_table_is_valid():
    spec = AlbInferenceSpec.model_validate(base_spec())
    assert spec.max_hosts == 8 and spec.tasks_per_host == 1


def test_a_grace_set_shorter_than_the_model_download_is_noted_for_the_reviewer(tmp_path):
    # GIVEN the public example with its grace set by hand to 60 s, below its 144 s download, synthesized for real
    from examples import SDXL, sdxl_public
    from sdk.constructs.engine import App

    scaling = {**SDXL.scaling.model_dump(), "health_check_grace_seconds": 60}
    app = App(outdir=str(tmp_path))
    sdxl_public(app, SDXL.model_validate({**SDXL.model_dump(), "scaling": scaling}))
    app.synth()
    stack = load_stack(tmp_path / "stacks", "sdxl-public")
    # THEN the service uses 60 s as told, and the review notes say tasks may be replaced before the model loads
    assert only(stack, "aws_ecs_service")["health_check_grace_period_seconds"] == 60
    notes = next(iter(read_hints(stack).values())).review_notes
    assert any("60 s is shorter than the model's estimated download (144 s)" in n for n in notes), notes


def test_a_secret_in_plain_environment_is_a_note_in_the_synth_summary_and_the_review(tmp_path):
    # GIVEN the public example with a database password in its plain environment
    from examples import SDXL, sdxl_public
    from sdk.constructs.engine import App
    from sdk.review import render_markdown, review_stack
    from sdk.specs import SecretInEnvironmentWarning
    from sdk.synth import summary_lines

    env = {**SDXL.container.environment, "DB_PASSWORD": "hunter2"}
    with pytest.warns(SecretInEnvironmentWarning, match="DB_PASSWORD looks like a secret"):
        container = {**SDXL.container.model_dump(), "environment": env}
        spec = SDXL.model_validate({**SDXL.model_dump(), "container": container})
    # WHEN it is synthesized and summarized as `python -m sdk synth` prints it, and reviewed
    app = App(outdir=str(tmp_path))
    sdxl_public(app, spec)
    app.synth()
    tf = load_stack(tmp_path / "stacks", "sdxl-public")
    lines = summary_lines("sdxl-public", tf)
    # THEN the summary carries the note under the blueprint, naming the variable and the fix
    (note,) = [line for line in lines if "DB_PASSWORD" in line]
    assert note.startswith("    note: container.environment: DB_PASSWORD looks like a secret in plain text")
    assert "Fix: move it to container.secrets" in note
    # and REVIEW.md lists it among the blueprint's notes
    markdown = render_markdown(review_stack("sdxl-public", tf, None))
    assert f"- {note.removeprefix('    note: ')}" in markdown


def test_the_cost_minimum_pays_for_the_hosts_min_tasks_keep_running(sdxl):
    # GIVEN the SDXL example: min_tasks=1 at one task per host, the ASG's own minimum 0
    from sdk.cost import estimate_stack

    # WHEN its cost is estimated
    line = next(line for line in estimate_stack(sdxl).lines if line.component.startswith("GPU hosts"))
    # THEN the Min column pays for the one on-demand host that always runs (g5.2xlarge, 730 h), not $0
    assert line.min_usd == pytest.approx(1.212 * 730, abs=0.01)


def test_the_blue_green_example_shifts_traffic_between_two_target_groups_through_ecs_native_blue_green(sdxl):
    # GIVEN the public SDXL example, deployed blue/green with a 15-minute bake and a test listener on 8443
    service = only(sdxl, "aws_ecs_service")
    groups = resources(sdxl, "aws_lb_target_group")
    rules = resources(sdxl, "aws_lb_listener_rule")
    # THEN the service deploys BLUE_GREEN, keeps the circuit breaker, and names both groups, both rules and the role
    assert service["deployment_configuration"] == {"strategy": "BLUE_GREEN", "bake_time_in_minutes": "15"}
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    advanced = service["load_balancer"][0]["advanced_configuration"]
    primary = service["load_balancer"][0]["target_group_arn"]
    alternate = advanced["alternate_target_group_arn"]
    assert {primary, alternate} == {f"${{aws_lb_target_group.{name}.arn}}" for name in groups}
    assert {advanced["production_listener_rule"], advanced["test_listener_rule"]} == {
        f"${{aws_lb_listener_rule.{name}.arn}}" for name in rules
    }
    # AND each rule forwards all traffic to blue, 0 to green, and leaves ECS's reweighting alone
    for rule in rules.values():
        weights = [(g["arn"], g["weight"]) for g in rule["action"][0]["forward"]["target_group"]]
        assert weights == [(primary, 100), (alternate, 0)]
        assert rule["lifecycle"] == {"ignore_changes": ["action"]}
    # AND the role ECS reweights with trusts ECS of this account only and carries the managed load-balancer policy
    role_name = advanced["role_arn"].split(".")[1]
    role = resources(sdxl, "aws_iam_role")[role_name]
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    attached = [a for a in resources(sdxl, "aws_iam_role_policy_attachment").values() if role_name in a["role"]]
    assert [a["policy_arn"] for a in attached] == [
        "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
    ]


def test_the_test_listener_has_its_own_port_and_admits_only_the_testers_cidrs(sdxl):
    # GIVEN the blue/green example with its test listener on 8443 for 198.51.100.0/24
    listeners = {lb["port"]: lb for lb in resources(sdxl, "aws_lb_listener").values()}
    ingress = [r for r in resources(sdxl, "aws_vpc_security_group_ingress_rule").values() if r["from_port"] == 8443]
    # THEN it is HTTPS with the production certificate and TLS policy, and reachable only from those CIDRs
    assert listeners[8443]["protocol"] == "HTTPS"
    assert listeners[8443]["ssl_policy"] == listeners[443]["ssl_policy"]
    assert [r["cidr_ipv4"] for r in ingress] == ["198.51.100.0/24"]


def test_a_traffic_shifting_deployment_rolls_back_on_the_services_own_5xx_latency_and_unhealthy_alarms(llm):
    # GIVEN the internal LLM example, deployed canary: 10% for 10 minutes, then a 10-minute bake
    service = only(llm, "aws_ecs_service")
    alarms = resources(llm, "aws_cloudwatch_metric_alarm")
    # THEN the deployment is CANARY with those figures as the provider's strings
    assert service["deployment_configuration"] == {
        "strategy": "CANARY",
        "bake_time_in_minutes": "10",
        "canary_configuration": {"canary_percent": 10, "canary_bake_time_in_minutes": "10"},
    }
    # AND a 5xx, p95 latency or unhealthy-target alarm of this service fails and rolls back the deployment
    named = {a.split(".")[1] for a in service["alarms"]["alarm_names"]}
    assert sorted(alarms[n]["alarm_name"] for n in named) == [
        "llm-internal-5xx-rate",
        "llm-internal-p95-latency",
        "llm-internal-unhealthy-targets",
    ]
    assert (service["alarms"]["enable"], service["alarms"]["rollback"]) == (True, True)


def test_a_rolling_spec_emits_exactly_what_it_did_before_deployments_were_configurable(tmp_path, sdxl):
    # GIVEN the public example with its deployment set back to the default (rolling)
    from blueprints.deployment_spec import DeploymentSpec
    from examples import SDXL, sdxl_public
    from sdk.constructs.engine import App

    app = App(outdir=str(tmp_path))
    sdxl_public(app, SDXL.model_copy(update={"deployment": DeploymentSpec()}))
    app.synth()
    stack = load_stack(tmp_path / "stacks", "sdxl-public")
    service = only(stack, "aws_ecs_service")
    # THEN there is no second target group, listener rule, deployment role, strategy or alarm block
    assert "deployment_configuration" not in service and "alarms" not in service
    assert "advanced_configuration" not in service["load_balancer"][0]
    assert len(resources(stack, "aws_lb_target_group")) == 1 and resources(stack, "aws_lb_listener_rule") == {}
    assert (service["deployment_maximum_percent"], service["deployment_circuit_breaker"]["rollback"]) == (200, True)
    summary = next(iter(read_hints(stack).values())).summary[0]
    assert "a deployment starts the new tasks before it stops the old" in summary
