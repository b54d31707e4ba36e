"""GPU host user data: rendered from the jinja2 template by what the spec asks for; every value it fills in is one
quoted shell word; the warm-pool launch unit runs on the ECS AL2023 AMI as built (curl, no aws CLI)."""

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import time
from typing import Any

import pytest

from sdk.constructs.engine import TerraformVariable, Testing
from sdk.constructs.gpu_capacity import (
    LAUNCH_HEARTBEAT_SECONDS,
    LAUNCH_HOOK,
    GpuCapacity,
    prepull_images,
    render_user_data,
    shell_word,
)
from sdk.constructs.stack import GpuStack
from sdk.gpu_metrics import AGENT_CONFIG_PATH, GpuMetricsSpec
from sdk.specs import TOKEN_PATTERN, CapacitySpec, WarmPoolSpec

IMAGE = "123456789012.dkr.ecr.us-west-2.amazonaws.com/worker:7"
PUBLIC = "public.ecr.aws/x/y:1"
WARM = CapacitySpec(instance_types=("g6f.xlarge",), warm_pool=WarmPoolSpec(min_size=1, prepull_images=(PUBLIC,)))
# Values a shell must never run: each reaches the host as exactly these characters.
HOSTILE = (
    "repo/worker:1$(touch pwned-dollar)",
    "repo/worker:`touch pwned-tick`",
    "repo/worker:1; touch pwned-semicolon",
    'it\'s "quoted" \\ back',
    "line\nLAUNCH\ntouch pwned-newline",
    "a${IFS}b$IFS%{ if true }",
    "-rf --help",
)


def user_data(spec: CapacitySpec, prepull: list[str] | None = None, cluster: str = "c") -> str:
    images = prepull_images(spec, prepull or [])
    return render_user_data(cluster_name=cluster, asg_name="c-gpu", spec=spec, region="us-west-2", images=images)


def launch_script(text: str) -> str:
    """The unit's script as the quoted heredoc writes it: everything up to the first line that is LAUNCH."""
    return text.split("<<'LAUNCH'\n", 1)[1].split("\nLAUNCH\n", 1)[0] + "\n"


def test_a_warm_pool_prefers_cached_images_and_its_unit_pulls_them_while_warming_then_completes_the_hook():
    # GIVEN a single-type capacity with a warm pool and one extra image to pull
    # WHEN the user data is rendered
    text = user_data(WARM, [IMAGE], cluster="render")
    # THEN ECS checks the warm-pool state and uses the pulled images; the unit lists the blueprint's image first,
    # targets this group's hook, heartbeats it, and runs on every boot
    assert "ECS_WARM_POOLS_CHECK=true\n" in text and "ECS_IMAGE_PULL_BEHAVIOR=prefer-cached\n" in text
    assert f"\nimages=( {IMAGE} {PUBLIC} )\n" in text
    assert "\nregion=us-west-2\nasg=c-gpu\n" in text and f"\nhook={LAUNCH_HOOK}\n" in text
    assert f"while sleep {LAUNCH_HEARTBEAT_SECONDS // 3}; do lifecycle RecordLifecycleActionHeartbeat" in text
    assert "WantedBy=multi-user.target" in text and "systemctl enable gpu-blueprints-launch.service" in text
    # and no command needs the aws CLI, which the minimal-based ECS AL2023 AMI does not ship
    assert not re.search(r"^\s*aws ", text, re.M)


def test_without_a_warm_pool_nothing_is_prepulled_and_the_check_is_off():
    text = user_data(CapacitySpec(instance_types=("g5.xlarge",)), [IMAGE])
    assert "ECS_WARM_POOLS_CHECK" not in text and "docker pull" not in text and "lifecycle" not in text
    assert text.startswith("#!/bin/bash\n") and "printf '%s\\n' ECS_CLUSTER=c >>/etc/ecs/ecs.config\n" in text


def test_g6f_large_hosts_get_vm_overcommit_memory_1():
    assert "sysctl -w vm.overcommit_memory=1" in user_data(CapacitySpec(instance_types=("g6f.large",)))
    assert "overcommit" not in user_data(CapacitySpec(instance_types=("g6f.xlarge",)))


def test_extra_agent_settings_are_appended_in_a_stable_order():
    spec = CapacitySpec(instance_types=("g5.xlarge",), ecs_agent_config={"ECS_LOGLEVEL": "debug", "ECS_A_FIRST": "1"})
    text = user_data(spec)
    assert text.index("ECS_A_FIRST=1") < text.index("ECS_LOGLEVEL=debug")


@pytest.mark.parametrize("value", HOSTILE)
def test_a_shell_word_is_one_argument_holding_exactly_the_value_on_one_line(value, tmp_path):
    # GIVEN a value built to break out of a shell word
    # WHEN it is written by shell_word and bash reads it as an argument
    word = shell_word(value)
    out = subprocess.run(["bash", "-c", f"printf '%s\\0' {word}"], cwd=tmp_path, capture_output=True, check=True)
    # THEN bash sees one argument with exactly the value, ran nothing, and the word has no line break to end a heredoc
    assert out.stdout.split(b"\0")[:-1] == [value.encode()]
    assert "\n" not in word and not list(tmp_path.iterdir())


def hostile_user_data() -> str:
    # render_user_data directly: these values never pass the specs' validation
    config = {"ECS_X": HOSTILE[0], "ECS_Y": HOSTILE[4]}
    spec = CapacitySpec.model_construct(**{**dict(WARM), "ecs_agent_config": config, "instance_types": ("g6f.large",)})
    return render_user_data(
        cluster_name=HOSTILE[1], asg_name=HOSTILE[2], spec=spec, region=HOSTILE[5], images=list(HOSTILE)
    )


def test_the_script_with_hostile_values_parses_and_writes_them_as_literal_config_lines(tmp_path):
    # GIVEN a host script rendered with hostile values everywhere it takes one
    text = hostile_user_data()
    # WHEN bash checks it, and runs it with its system paths moved under a temporary root and systemd stubbed
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)
    for folder in ("etc/ecs", "etc/sysctl.d", "etc/systemd/system", "bin"):
        (tmp_path / folder).mkdir(parents=True)
    rooted = text.replace("/etc/", f"{tmp_path}/etc/").replace("/usr/local/bin/", f"{tmp_path}/bin/")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name in ("systemctl", "sysctl"):
        (stubs / name).write_text("#!/bin/bash\nexit 0\n")
        (stubs / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"}
    subprocess.run(["bash", "-c", rooted], cwd=tmp_path, env=env, check=True, capture_output=True)
    # THEN nothing ran: no file a substitution would have made, the config holds the values as written,
    # and the unit's script got its values as the rendered words
    assert not [p for p in tmp_path.rglob("pwned*")]
    config = (tmp_path / "etc/ecs/ecs.config").read_text()
    assert f"\nECS_CLUSTER={HOSTILE[1]}\n" in config and f"\nECS_X={HOSTILE[0]}\n" in config
    assert (tmp_path / "bin/gpu-blueprints-launch").read_text() == launch_script(text)


@pytest.fixture
def host(tmp_path):
    """Fake curl (IMDSv2 + the ECR and Auto Scaling APIs), docker, systemctl and sleep that log their argv."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    creds = '{\\n  "Code" : "Success",\\n  "AccessKeyId" : "AKIDEXAMPLE",\\n  "SecretAccessKey" : "SECRET",\\n'
    creds += '  "Token" : "SESSION"\\n}\\n'
    fake = f"""#!/bin/bash
name=$(basename "$0")
{{ printf '%s\\0' "$name" "$@"; printf '\\1'; }} >>"$HOST_LOG"
case $name in
  sleep) exec {shutil.which("sleep")} 0.1 ;;
  systemctl) exit 0 ;;
  docker)
    [[ $1 == login ]] && cat >"$HOST_LOG.password"
    if [[ $1 == pull && -n ${{FAIL_PULL:-}} ]]; then echo "pull denied" >&2; exit 1; fi
    exit 0 ;;
esac
url=""
for arg in "$@"; do [[ $arg == http* ]] && url=$arg; done
case $url in
  */api/token) echo IMDS-TOKEN ;;
  */meta-data/autoscaling/target-lifecycle-state) echo "$LIFECYCLE_STATE" ;;
  */meta-data/instance-id) echo i-0abc ;;
  */meta-data/iam/security-credentials/) echo host-role ;;
  */meta-data/iam/security-credentials/host-role) printf '{creds}' ;;
  https://api.ecr.*) printf '{{"authorizationData":[{{"authorizationToken":"%s"}}]}}' "$(printf AWS:ecr-pw | base64)" ;;
  https://autoscaling.*) echo '<ok/>' ;;
  *) exit 22 ;;
esac
"""
    for name in ("curl", "docker", "systemctl", "sleep"):
        (stubs / name).write_text(fake)
        (stubs / name).chmod(0o755)
    log = tmp_path / "host.log"

    def run(script: str, state: str = "Warmed:Stopped", fail_pull: bool = False) -> tuple[int, list[list[str]], float]:
        env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "HOST_LOG": str(log)}
        env |= {"LIFECYCLE_STATE": state, "FAIL_PULL": "1" if fail_pull else ""}
        start = time.monotonic()
        done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, timeout=30)
        calls = [entry.split("\0")[:-1] for entry in log.read_text().split("\1")[:-1]] if log.exists() else []
        return done.returncode, calls, time.monotonic() - start

    return run


def lifecycle_calls(calls: list[list[str]]) -> list[list[str]]:
    return [c for c in calls if c[0] == "curl" and any(a.startswith("https://autoscaling.") for a in c)]


def test_a_warming_host_logs_in_to_ecr_pulls_each_image_and_completes_the_hook_with_continue(host):
    # GIVEN the unit's script of a warm pool with an ECR and a public image, on a host that is warming
    script = launch_script(user_data(WARM, [IMAGE]))
    # WHEN it runs
    code, calls, _ = host(script)
    # THEN it logs in to the ECR registry with the token's password, pulls both images in order, and completes
    # this group's hook with CONTINUE through SigV4-signed curl calls with the instance profile's credentials
    assert code == 0
    docker = [c[1:] for c in calls if c[0] == "docker"]
    assert docker == [
        ["login", "--username", "AWS", "--password-stdin", IMAGE.split("/")[0]],
        ["pull", IMAGE],
        ["pull", PUBLIC],
    ]
    (complete,) = [c for c in lifecycle_calls(calls) if "Action=CompleteLifecycleAction" in c]
    for arg in ("LifecycleActionResult=CONTINUE", "AutoScalingGroupName=c-gpu", f"LifecycleHookName={LAUNCH_HOOK}"):
        assert arg in complete
    assert "InstanceId=i-0abc" in complete and "aws:amz:us-west-2:autoscaling" in complete
    assert "AKIDEXAMPLE:SECRET" in complete and "X-Amz-Security-Token: SESSION" in complete


def test_a_failed_pull_abandons_the_launch_and_exits_non_zero_quickly(host):
    # GIVEN a warming host whose registry refuses the pull
    script = launch_script(user_data(WARM, [IMAGE]))
    # WHEN the unit runs
    code, calls, seconds = host(script, fail_pull=True)
    # THEN it completes the hook with ABANDON (the group replaces the host) and fails the unit, in seconds
    assert code != 0 and seconds < 10
    results = [a for c in lifecycle_calls(calls) for a in c if a.startswith("LifecycleActionResult=")]
    assert results == ["LifecycleActionResult=ABANDON"]


def test_a_host_leaving_the_pool_pulls_nothing_and_continues(host):
    code, calls, _ = host(launch_script(user_data(WARM, [IMAGE])), state="InService")
    assert code == 0 and not [c for c in calls if c[0] == "docker"]
    assert [a for c in lifecycle_calls(calls) for a in c if "Result=" in a] == ["LifecycleActionResult=CONTINUE"]


def test_hostile_values_reach_docker_and_the_api_as_single_literal_arguments(host, tmp_path):
    # GIVEN the unit's script rendered with hostile images, group name and region
    script = launch_script(hostile_user_data())
    # WHEN it runs on a warming host
    code, calls, _ = host(script)
    # THEN docker pulled each hostile reference as one literal argument and nothing was substituted or run
    assert code == 0
    assert [c[2] for c in calls if c[:2] == ["docker", "pull"]] == list(HOSTILE)
    assert f"AutoScalingGroupName={HOSTILE[2]}" in lifecycle_calls(calls)[-1]
    assert not list(tmp_path.rglob("pwned*"))


def test_an_image_tag_from_a_terraform_variable_reaches_the_host_script_as_one_word(host):
    # GIVEN a warm-pool capacity whose image tag is a Terraform variable
    stack = GpuStack(Testing.app(), "s", region="us-west-2")
    tag = TerraformVariable(stack, "image_tag", type="string")
    capacity = GpuCapacity(
        stack,
        "gpu",
        name="gpu",
        cluster_name="gpu",
        spec=WARM,
        vpc_id="vpc-1",
        subnet_ids=["subnet-a", "subnet-b"],
        max_hosts=2,
        region="us-west-2",
        prepull=[f"{IMAGE.split(':')[0]}:{tag.string_value}"],
    )
    # WHEN the stack is synthesized
    tf = json.loads(Testing.synth(stack))
    (name,) = tf["locals"]
    local = tf["locals"][name]
    # THEN the launch template base64-encodes that local; Terraform interpolates only the variable, base64-encoded,
    # and the rest of the script is escaped so Terraform hands it over as written
    (template,) = tf["resource"]["aws_launch_template"].values()
    assert template["user_data"] == f"${{base64encode(local.{name})}}"
    assert re.findall(r"(?<!\$)\$\{[^}]*\}", local) == ["${base64encode(var.image_tag)}"]
    rendered = TOKEN_PATTERN.sub("${base64encode(var.image_tag)}", capacity.user_data)
    assert local.replace("$${", "${").replace("%%{", "%{") == rendered
    # and when Terraform supplies a hostile tag, the host pulls it as one literal argument
    value = "1$(touch pwned)"
    resolved = local.replace("${base64encode(var.image_tag)}", base64.b64encode(value.encode()).decode())
    code, calls, _ = host(launch_script(resolved.replace("$${", "${").replace("%%{", "%{")))
    assert code == 0 and next(c[2] for c in calls if c[:2] == ["docker", "pull"]) == f"{IMAGE.split(':')[0]}:{value}"


def capacity_in_stack(
    spec: CapacitySpec,
    *,
    max_hosts: int = 2,
    prepull: list[str] | None = None,
    name: str = "gpu",
    group_metrics: bool = False,
):
    """A GpuCapacity alone in a us-west-2 stack: (stack, capacity)."""
    stack = GpuStack(Testing.app(), "s", region="us-west-2")
    capacity = GpuCapacity(
        stack,
        "gpu",
        name=name,
        cluster_name=name,
        spec=spec,
        vpc_id="vpc-1",
        subnet_ids=["subnet-a", "subnet-b"],
        max_hosts=max_hosts,
        region="us-west-2",
        prepull=prepull,
        group_metrics=group_metrics,
    )
    return stack, capacity


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (CapacitySpec(instance_types=("g6.xlarge",)), ["GroupInServiceInstances", "GroupDesiredCapacity"]),
        (WARM, ["GroupInServiceInstances", "GroupDesiredCapacity", "WarmPoolWarmedCapacity"]),
    ],
)
def test_group_metrics_are_enabled_every_minute_only_when_asked_and_the_warm_pools_only_with_one(spec, expected):
    # GIVEN a group asked for its dashboard metrics, and the same group not asked
    asked, _ = capacity_in_stack(spec, group_metrics=True)
    plain, _ = capacity_in_stack(spec)
    # WHEN synthesized
    (on,) = json.loads(Testing.synth(asked))["resource"]["aws_autoscaling_group"].values()
    (off,) = json.loads(Testing.synth(plain))["resource"]["aws_autoscaling_group"].values()
    # THEN the asked group collects exactly the host metrics at 1-minute granularity, the other none
    assert (on["enabled_metrics"], on["metrics_granularity"]) == (expected, "1Minute")
    assert "enabled_metrics" not in off and "metrics_granularity" not in off


def test_the_warm_pool_holds_exactly_min_size_and_the_hook_times_out_after_a_short_heartbeat():
    # GIVEN a warm pool of 1 on a group of up to 6 hosts
    stack, _ = capacity_in_stack(WARM, max_hosts=6)
    # WHEN synthesized
    (asg,) = json.loads(Testing.synth(stack))["resource"]["aws_autoscaling_group"].values()
    # THEN max_group_prepared_capacity 0 keeps exactly min_size stopped (-1 would keep max_size - desired = 6),
    # and a host that never reports is given up on after the heartbeat, not after the 30-minute pull budget
    assert asg["warm_pool"]["max_group_prepared_capacity"] == 0 and asg["warm_pool"]["min_size"] == 1
    assert asg["initial_lifecycle_hook"][0]["heartbeat_timeout"] == LAUNCH_HEARTBEAT_SECONDS < 1800


def test_terraform_hands_the_host_script_over_exactly_as_rendered_hostile_values_included(terraform_reads):
    # GIVEN a warm-pool capacity whose prepull list holds shell and Terraform syntax
    stack, capacity = capacity_in_stack(WARM, prepull=list(HOSTILE))
    # WHEN Terraform evaluates the local the launch template base64-encodes
    (local,) = json.loads(Testing.synth(stack))["locals"].values()
    # THEN the host gets the rendered script byte for byte (${IFS}, %{ if }, ${image%%/*} untouched)
    assert terraform_reads(local) == capacity.user_data


def synth_asg(spec: CapacitySpec) -> dict[str, Any]:
    stack, _ = capacity_in_stack(spec, max_hosts=4, name="svc")
    [asg] = json.loads(Testing.synth(stack))["resource"]["aws_autoscaling_group"].values()
    return asg


@pytest.mark.parametrize("min_hosts", [0, 2])
def test_terraform_never_waits_for_gpu_capacity_that_ecs_managed_scaling_owns(min_hosts):
    # GIVEN a group that must hold hosts at once (min_hosts 2) or none
    # WHEN it is synthesized
    asg = synth_asg(CapacitySpec(instance_types=("g5.xlarge", "g6.xlarge"), min_hosts=min_hosts))
    # THEN the provider skips its capacity wait (one failed launch would fail the apply and taint the group),
    # the minimum stays what the spec asks and desired capacity is left to ECS
    assert asg["wait_for_capacity_timeout"] == "0"
    assert asg["min_size"] == min_hosts and asg["max_size"] == 4
    assert "desired_capacity" not in asg and asg["lifecycle"]["ignore_changes"] == ["desired_capacity"]


def agent_config_in(script: str) -> dict[str, Any] | None:
    """The JSON the host script writes to the CloudWatch agent's config file, as the shell reads that word."""
    lines = [line for line in script.splitlines() if line.rstrip().endswith(f">{AGENT_CONFIG_PATH}")]
    if not lines:
        return None
    [line] = lines
    words = shlex.split(line.split(">", 1)[0])
    assert words[:2] == ["printf", "%s\\n"] and len(words) == 3
    return json.loads(words[2])


def test_every_host_installs_the_cloudwatch_agent_and_configures_its_gpu_metrics_from_the_spec():
    # GIVEN a capacity with default GPU metrics, synthesized into a stack
    stack, _ = capacity_in_stack(CapacitySpec(instance_types=("g6.xlarge",)))
    (local,) = json.loads(Testing.synth(stack))["locals"].values()
    # WHEN the user data Terraform hands the host is read back (Terraform turns $${ into ${)
    script = local.replace("$${", "${")
    config = agent_config_in(script)
    # THEN the host installs the agent from the AL2023 repository and starts it with that file (enabled in systemd)
    assert "dnf install -y --setopt=retries=5 amazon-cloudwatch-agent" in script
    assert f"amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:{AGENT_CONFIG_PATH}" in script
    # AND the config collects the GPU measurements per instance and per group, into our namespace, every minute
    assert config is not None
    metrics = config["metrics"]
    assert metrics["metrics_collected"]["nvidia_gpu"] == {
        "measurement": ["utilization_gpu", "memory_used", "memory_total", "temperature_gpu", "power_draw"],
        "metrics_collection_interval": 60,
    }
    assert metrics["namespace"] == "GpuBlueprints"
    assert metrics["append_dimensions"] == {
        "InstanceId": "${aws:InstanceId}",
        "AutoScalingGroupName": "${aws:AutoScalingGroupName}",
    }
    assert metrics["aggregation_dimensions"] == [["AutoScalingGroupName"]]


def test_a_failed_agent_install_does_not_stop_the_warm_pool_launch_unit_from_being_set_up():
    # GIVEN a warm-pool capacity (its launch unit must complete the lifecycle hook)
    text = user_data(WARM, [IMAGE])
    # WHEN the script is read
    # THEN the agent is set up after the launch unit is started, and a failed install only logs
    assert text.index("systemctl start --no-block gpu-blueprints-launch.service") < text.index("dnf install")
    assert re.search(r"if dnf install [^\n]*; then\n(.*\n)*else\n  echo [^\n]*>&2\nfi\n$", text)


def test_hosts_without_gpu_metrics_get_no_agent_no_metrics_permission_and_no_cost_note():
    # GIVEN a capacity with GPU metrics off
    spec = CapacitySpec(instance_types=("g6.xlarge",), gpu_metrics=GpuMetricsSpec(enabled=False))
    stack, capacity = capacity_in_stack(spec)
    tf = stack.to_terraform()
    # WHEN the stack is synthesized
    policies = json.dumps(tf["resource"].get("aws_iam_role_policy", {}))
    (asg,) = tf["resource"]["aws_autoscaling_group"].values()
    # THEN nothing installs the agent, the host may not put metrics, and the cost has nothing to price
    assert agent_config_in(capacity.user_data) is None and "amazon-cloudwatch-agent" not in capacity.user_data
    assert "cloudwatch:PutMetricData" not in policies
    assert "gpu_metrics" not in asg.get("//", {})


def test_the_host_role_may_put_metrics_only_into_the_gpu_namespace_and_read_its_tags():
    # GIVEN a capacity publishing into its own namespace
    spec = CapacitySpec(instance_types=("g6.xlarge",), gpu_metrics=GpuMetricsSpec(namespace="Team/Gpu"))
    stack, _ = capacity_in_stack(spec)
    tf = json.loads(Testing.synth(stack))
    # WHEN the host role's inline policy and managed policies are read
    (policy,) = tf["resource"]["aws_iam_role_policy"].values()
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    managed = [a["policy_arn"] for a in tf["resource"]["aws_iam_role_policy_attachment"].values()]
    # THEN PutMetricData is allowed only with that namespace, DescribeTags (group name dimension) on its own,
    # and AWS's broad CloudWatchAgentServerPolicy is not attached
    assert statements["GpuMetrics"]["Action"] == ["cloudwatch:PutMetricData"]
    assert statements["GpuMetrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Team/Gpu"}}
    assert statements["GpuMetricsGroupName"]["Action"] == ["ec2:DescribeTags"]
    assert not any("CloudWatchAgent" in arn for arn in managed)
    # AND the group carries what the cost estimate prices (Testing.synth drops "//" keys)
    (asg,) = stack.to_terraform()["resource"]["aws_autoscaling_group"].values()
    assert asg["//"]["gpu_metrics"] == {"namespace": "Team/Gpu", "measurements": 5}
