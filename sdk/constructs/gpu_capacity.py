"""GPU capacity: launch template on the AL2023 ECS GPU AMI, a mixed-instances ASG over >= 2 AZs and an
ECS capacity provider with managed scaling, managed termination protection and managed draining."""

import shlex
from functools import cache
from typing import Any

import jinja2

from sdk.constructs.engine import (
    AutoscalingGroup,
    Construct,
    DataAwsSsmParameter,
    EcsCapacityProvider,
    Fn,
    LaunchTemplate,
    TerraformLocal,
)
from sdk.constructs.gpu_metrics import host_statements
from sdk.constructs.iam import InstanceRole
from sdk.constructs.metrics import host_metrics
from sdk.constructs.network import https_out_security_group
from sdk.constructs.stack import is_destroyable
from sdk.constructs.structs import new
from sdk.gpu_metrics import AGENT_CONFIG_PATH, GPU_METRICS_KEY, agent_config_json
from sdk.specs import TOKEN_PATTERN, CapacitySpec

GPU_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
OVERCOMMIT_TYPES = frozenset({"g6f.large"})
# Warm pools: the ASG pauses each launch here until the host has pulled its images (user data completes it).
LAUNCH_HOOK = "gpu-blueprints-launch"
# The hook gives up on a silent host after this long; the host heartbeats every third of it while it pulls.
LAUNCH_HEARTBEAT_SECONDS = 180


def shell_word(value: object) -> str:
    """`value` as exactly one bash word, on one line: every value the host script template prints goes through here
    (the template environment's finalize). A cdktf token is base64-encoded by Terraform and decoded by the host, so
    whatever it resolves to at apply time stays one word too."""
    text = str(value)
    parts = TOKEN_PATTERN.split(text)
    tokens = [f"\"$(base64 -d <<<'{Fn.base64encode(token)}')\"" for token in TOKEN_PATTERN.findall(text)]
    if not tokens:
        return _quoted(text)
    return "".join(_quoted(part) + token for part, token in zip(parts, [*tokens, ""], strict=True) if part or token)


def _quoted(text: str) -> str:
    if text.isprintable():
        return shlex.quote(text)
    # A line break must not end a heredoc the word sits in: ANSI-C quoting keeps it on one line.
    return "$'" + "".join(_ansi_c(char) for char in text) + "'"


def _ansi_c(char: str) -> str:
    if char in "'\\":
        return "\\" + char
    return char if char.isprintable() else "".join(f"\\x{byte:02x}" for byte in char.encode())


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sdk.constructs", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        finalize=shell_word,
        autoescape=False,
    )
    return env.get_template("ecs_gpu_user_data.sh.j2")


def prepull_images(spec: CapacitySpec, images: list[str]) -> list[str]:
    """What warming hosts pull: the blueprint's images, then the warm pool's extra ones (none without a pool)."""
    if spec.warm_pool is None:
        return []
    return list(dict.fromkeys([*images, *spec.warm_pool.prepull_images]))


def render_user_data(*, cluster_name: str, asg_name: str, spec: CapacitySpec, region: str, images: list[str]) -> str:
    """The host bootstrap script; `images` are pulled while a warm-pool host warms (see prepull_images)."""
    warm = spec.warm_pool
    return _template().render(
        cluster_name=cluster_name,
        asg_name=asg_name,
        region=region,
        launch_hook=LAUNCH_HOOK,
        heartbeat=LAUNCH_HEARTBEAT_SECONDS,
        heartbeat_every=LAUNCH_HEARTBEAT_SECONDS // 3,
        launch_timeout=warm.launch_timeout_seconds if warm else 0,
        warm_pool=warm is not None,
        extra_config=sorted(spec.ecs_agent_config.items()),
        overcommit_memory=bool(OVERCOMMIT_TYPES & set(spec.instance_types)),
        prepull_images=images,
        agent_config=agent_config_json(spec.gpu_metrics) if spec.gpu_metrics.enabled else "",
        agent_config_path=AGENT_CONFIG_PATH,
    )


class GpuCapacity(Construct):
    """`.security_group`, `.launch_template`, `.asg`, `.capacity_provider` (`.provider_name`), `.instance_role`,
    `.user_data`; `.asg_name` and `.gpu_metrics` (the spec's) for the GPU metric helpers
    (sdk.constructs.gpu_metrics)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        cluster_name: str,
        spec: CapacitySpec,
        vpc_id: str,
        subnet_ids: list[str],
        max_hosts: int,
        region: str,
        prepull: list[str] | None = None,
        group_metrics: bool = False,
    ) -> None:
        """`group_metrics`: enable the Auto Scaling group metrics a dashboard reads (sdk.constructs.metrics)."""
        super().__init__(scope, id_)
        images = prepull_images(spec, prepull or [])
        warm = spec.warm_pool is not None
        self.asg_name, self.gpu_metrics = f"{name}-gpu", spec.gpu_metrics
        self.security_group = https_out_security_group(
            self,
            "hosts",
            name=f"{name}-hosts",
            vpc_id=vpc_id,
            description="GPU hosts: no ingress; HTTPS out (ECR, S3, ECS, logs)",
            egress_description="HTTPS to AWS APIs and registries",
        )
        self.instance_role = InstanceRole(
            self,
            "iam",
            name=name,
            prepull=images,
            region=region,
            launch_hook_asg=self.asg_name if warm else None,
            extra_statements=host_statements(spec.gpu_metrics),
        )
        ami = new(DataAwsSsmParameter, self, "gpu_ami", name=GPU_AMI_PARAMETER)
        self.user_data = render_user_data(
            cluster_name=cluster_name, asg_name=self.asg_name, spec=spec, region=region, images=images
        )
        self.launch_template = self._launch_template(name, spec, ami)
        self.asg = self._asg(name, spec, subnet_ids, max_hosts, group_metrics)
        if spec.gpu_metrics.enabled:  # read by sdk.cost (Terraform ignores "//")
            self.asg.add_override(
                f"//.{GPU_METRICS_KEY}",
                {"namespace": spec.gpu_metrics.namespace, "measurements": len(spec.gpu_metrics.measurements)},
            )
        self.capacity_provider = new(
            EcsCapacityProvider,
            self,
            "capacity_provider",
            name=f"{name}-cp",
            auto_scaling_group_provider={
                "auto_scaling_group_arn": self.asg.arn,
                "managed_termination_protection": "ENABLED",
                "managed_draining": "ENABLED",
                "managed_scaling": {
                    "status": "ENABLED",
                    "target_capacity": spec.target_capacity_percent,
                    "minimum_scaling_step_size": 1,
                    "maximum_scaling_step_size": 10,
                    "instance_warmup_period": 300,
                },
            },
        )
        self.provider_name: str = self.capacity_provider.name

    def _launch_template(self, name: str, spec: CapacitySpec, ami: DataAwsSsmParameter) -> LaunchTemplate:
        return new(
            LaunchTemplate,
            self,
            "launch_template",
            name=f"{name}-gpu",
            image_id=ami.insecure_value,
            instance_type=spec.instance_types[0],
            update_default_version=True,
            iam_instance_profile={"arn": self.instance_role.instance_profile.arn},
            vpc_security_group_ids=[self.security_group.id],
            # Hop limit 1: bridge-mode containers cannot reach the host's credentials; awsvpc tasks are blocked by
            # ECS_AWSVPC_BLOCK_IMDS.
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
                "instance_metadata_tags": "disabled",
            },
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": spec.root_volume_gib,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            monitoring={"enabled": True},
            ebs_optimized="true",
            # A local holds the script as a plain Terraform string (new() escapes it; tokens in it still resolve).
            user_data=Fn.base64encode(new(TerraformLocal, self, "user_data", expression=self.user_data).as_string),
            tag_specifications=[
                {"resource_type": kind, "tags": {"Name": f"{name}-gpu-host"}} for kind in ("instance", "volume")
            ],
        )

    def _asg(
        self, name: str, spec: CapacitySpec, subnet_ids: list[str], max_hosts: int, group_metrics: bool
    ) -> AutoscalingGroup:
        spot = spec.spot
        distribution = {
            "on_demand_allocation_strategy": "prioritized",
            "on_demand_base_capacity": spot.on_demand_base if spot else 0,
            "on_demand_percentage_above_base_capacity": spot.on_demand_percent_above_base if spot else 100,
            "spot_allocation_strategy": spot.allocation_strategy if spot else "price-capacity-optimized",
        }
        warm = spec.warm_pool
        # EC2 refuses a warm pool on a group with a mixed instances policy (and a pool takes one type anyway).
        placement: dict[str, Any] = (
            {
                "mixed_instances_policy": {
                    "instances_distribution": distribution,
                    "launch_template": {
                        "launch_template_specification": {
                            "launch_template_id": self.launch_template.id,
                            "version": "$Latest",
                        },
                        "override": [{"instance_type": t} for t in spec.instance_types],
                    },
                }
            }
            if warm is None
            else {"launch_template": {"id": self.launch_template.id, "version": "$Latest"}}
        )
        return new(
            AutoscalingGroup,
            self,
            "asg",
            name=self.asg_name,
            min_size=spec.min_hosts,
            max_size=max_hosts,
            # "0" skips the provider's capacity wait on create and on a min_size change (group.go: wait only when
            # the timeout parses > 0), which fails the apply on the first failed launch (one AZ out of GPUs:
            # hashicorp/terraform-provider-aws#33665) and taints the group. ECS managed scaling fills the group.
            wait_for_capacity_timeout="0",
            vpc_zone_identifier=subnet_ids,
            protect_from_scale_in=True,
            # Hosts are scale-in protected: without force_delete, destroy waits for them forever.
            force_delete=True if is_destroyable(self) else None,
            capacity_rebalance=spot is not None,
            health_check_type="EC2",
            health_check_grace_period=300,
            default_instance_warmup=300,
            # Free at 1-minute granularity, but only once enabled (EC2 Auto Scaling user guide,
            # ec2-auto-scaling-metrics.html).
            enabled_metrics=list(host_metrics(self.asg_name, warm_pool=warm is not None)) if group_metrics else None,
            metrics_granularity="1Minute" if group_metrics else None,
            **placement,
            warm_pool=None
            if warm is None
            else {
                "pool_state": warm.pool_state,
                "min_size": warm.min_size,
                # 0: the pool holds exactly min_size hosts (AWS PutWarmPool: the pool keeps max_prepared - desired,
                # never fewer than MinSize); -1 (unset) would keep max_size - desired.
                "max_group_prepared_capacity": warm.max_prepared or 0,
                "instance_reuse_policy": {"reuse_on_scale_in": False},
            },
            initial_lifecycle_hook=None
            if warm is None
            else [
                {
                    "name": LAUNCH_HOOK,
                    "lifecycle_transition": "autoscaling:EC2_INSTANCE_LAUNCHING",
                    "default_result": "CONTINUE",
                    "heartbeat_timeout": LAUNCH_HEARTBEAT_SECONDS,
                }
            ],
            tag=[
                {"key": "AmazonECSManaged", "value": "true", "propagate_at_launch": True},
                {"key": "Name", "value": f"{name}-gpu-host", "propagate_at_launch": True},
            ],
            # ECS managed scaling owns desired capacity; Terraform must not fight it.
            lifecycle={"ignore_changes": ["desired_capacity"]},
        )
