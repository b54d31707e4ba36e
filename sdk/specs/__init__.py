"""Shared spec models: frozen pydantic, every field says its default. Blueprint specs compose these."""

import ipaddress
import math
import re
import sys
import warnings
from collections.abc import Callable
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from sdk.catalog import known_regions
from sdk.specs.base import Spec, problems_to_error
from sdk.specs.gpu_metrics import GpuMetricsSpec

TOKEN_MARKER = "${TfToken["  # an unresolved cdktf token (e.g. an ARN of a resource in the same stack)
VpcEndpointName = Literal[
    "ecr.api",
    "ecr.dkr",
    "s3",
    "logs",
    "sqs",
    "sts",
    "ssm",
    "ssmmessages",
    "ec2messages",
    "ecs",
    "ecs-agent",
    "ecs-telemetry",
    "dynamodb",
    "secretsmanager",
    "monitoring",
]
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
_ARN = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:.+$")


def is_token(value: str) -> bool:
    return TOKEN_MARKER in value


def arn_parts(value: str) -> tuple[str, str] | None:
    """(service, region) of an ARN, or None for a cdktf token; ValueError when it is no ARN."""
    if is_token(value):
        return None
    match = _ARN.match(value)
    if not match:
        raise ValueError(f"{value!r} is not an ARN (arn:aws:<service>:<region>:<account>:<resource>)")
    return match.group(1), match.group(2)


def ecr_repository(image: str) -> tuple[str, str, str] | None:
    """(account, region, repository) of an ECR image URI, else None."""
    match = re.match(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([^:@]+)", image)
    return (match.group(1), match.group(2), match.group(3)) if match else None


# The OCI/Docker reference grammar (github.com/distribution/reference, reference.go): a registry host is the first
# component only when it has a '.' or ':' or is localhost; repository components are lower-case.
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(
    rf"(?:(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})+(?::[0-9]+)?|{_DOMAIN_PART}:[0-9]+|localhost)/)?"
    rf"{_PATH_PART}(?:/{_PATH_PART})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)
TOKEN_PATTERN = re.compile(r"\$\{TfToken\[[A-Za-z0-9_.]+\]\}")


def image_reference(value: str) -> str:
    """An image reference as Docker and ECS parse it; a cdktf token may stand for any part (resolved at apply)."""
    literal = TOKEN_PATTERN.sub("t0", value)
    if not _IMAGE_REFERENCE.fullmatch(literal) or len(literal.split("@")[0].split(":")[0]) > 255:
        raise ValueError(
            f"{value!r} is not an image reference: registry[:port]/repository[:tag][@digest], repository in "
            "lower-case letters, digits and . _ - separators, tag of letters, digits, _ . - (up to 128, first not . or "
            "-), digest algorithm:hex. Fix: e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/worker:1.2"
        )
    return value


def region_name(value: str) -> str:
    """An AWS region the catalog knows (sdk/catalog/regions.toml): it is written into ARNs and host scripts."""
    if value not in known_regions():
        close = sorted(r for r in known_regions() if r[:2] == value.strip().lower()[:2]) or ["us-east-1"]
        raise ValueError(f"{value!r} is not an AWS region. Fix: one of {', '.join(close)}")
    return value


# ARN parts: partition (aws, aws-cn, aws-us-gov), region, account.
ARN_PARTITION, ARN_REGION, ARN_ACCOUNT = r"arn:aws(?:-[a-z]+)*", r"[a-z]{2}(?:-[a-z]+)+-\d", r"\d{12}"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def shaped(value: str, pattern: str, what: str, fix: str) -> str:
    """`value` when it is a cdktf token or matches `pattern` whole, else ValueError naming `what` and the fix."""
    if is_token(value) or re.fullmatch(pattern, value):
        return value
    raise ValueError(f"{value!r} is not {what}. Fix: {fix}")


def sns_topic_arn(value: str) -> str:
    # Topic names: 1-256 letters, digits, '-' and '_' (FIFO topics end in .fifo): SNS CreateTopic, Name.
    return shaped(
        value,
        rf"{ARN_PARTITION}:sns:{ARN_REGION}:{ARN_ACCOUNT}:[A-Za-z0-9_-]{{1,256}}(?:\.fifo)?",
        "an SNS topic ARN",
        "arn:aws:sns:<region>:<12-digit account>:<topic name>",
    )


def vpc_id(value: str) -> str:
    fix = "vpc- and 8 or 17 hex digits, e.g. vpc-0a1b2c3d"
    return shaped(value, r"vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})", "a VPC id", fix)


def subnet_id(value: str) -> str:
    return shaped(
        value,
        r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})",
        "a subnet id",
        "subnet- and 8 or 17 hex digits, e.g. subnet-0123456789abcdef0",
    )


def cidr_block(value: str) -> str:
    """An IP network written as its network address and prefix (what security group rules and VPCs accept)."""
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not a CIDR block. Fix: e.g. 203.0.113.0/24") from None
    if "/" not in value:
        raise ValueError(f"{value!r} is an address, not a CIDR block. Fix: {network} (that one address)")
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError(f"{value!r} has host bits set. Fix: {network} (its network), or a longer prefix") from None
    return value


def mount_path(value: str) -> str:
    """An absolute container path below / (Docker refuses relative mount destinations)."""
    parts = value.split("/")
    if not value.startswith("/") or value.rstrip("/") == "" or ".." in parts:
        fixed = "/" + "/".join(part for part in parts if part not in ("", ".", ".."))
        raise ValueError(f"{value!r} is not an absolute path below /. Fix: {fixed if fixed != '/' else '/data'!r}")
    return value


ImageReference = Annotated[str, AfterValidator(image_reference)]
MountPath = Annotated[str, AfterValidator(mount_path)]
Region = Annotated[str, AfterValidator(region_name)]

RESERVED_NAME_PREFIXES = ("aws", "ecs", "fargate")


def resource_name(max_length: int) -> Callable[[str], str]:
    """A validator for a blueprint's name: lower-case DNS-style, at most `max_length` characters (the longest
    derived AWS name must fit), and no prefix ECS reserves for its own capacity providers."""

    def check(value: str) -> str:
        if not re.fullmatch(rf"[a-z][a-z0-9-]{{1,{max_length - 2}}}[a-z0-9]", value):
            raise ValueError(
                f"{value!r}: use 3-{max_length} lower-case letters, digits and '-', starting with a letter and not "
                f"ending with '-'. Fix: e.g. {re.sub(r'[^a-z0-9-]', '-', value.lower())[:max_length].strip('-')!r}"
            )
        if value.startswith(RESERVED_NAME_PREFIXES):
            raise ValueError(
                f"{value!r} starts with {', '.join(RESERVED_NAME_PREFIXES)}, which ECS reserves for its own "
                f"capacity providers. Fix: e.g. 'gpu-{value}'"
            )
        return value

    return check


class NetworkSpec(Spec):
    """Where the service runs: a VPC created across `az_count` AZs (default), or your VPC and subnets."""

    vpc_id: str | None = Field(default=None, description="Existing VPC id. Default None: a VPC is created.")
    public_subnet_ids: tuple[str, ...] = Field(
        default=(), description="Existing public subnets (with vpc_id). Default (): created with the VPC."
    )
    private_subnet_ids: tuple[str, ...] = Field(
        default=(), description="Existing private subnets (with vpc_id). Default (): created with the VPC."
    )
    cidr_block: str = Field(default="10.40.0.0/16", description="CIDR of a created VPC. Default 10.40.0.0/16.")
    az_count: int = Field(default=2, ge=1, le=6, description="AZs of a created VPC. Default 2 (minimum for an ALB).")
    nat_gateways: Literal["none", "single", "per_az"] = Field(
        default="single", description="NAT for private subnets of a created VPC. Default single (one NAT, cheapest)."
    )
    vpc_endpoints: tuple[VpcEndpointName, ...] = Field(
        default=(), description="VPC endpoints to create (created VPC only; s3/dynamodb are gateways). Default none."
    )

    @field_validator("cidr_block")
    @classmethod
    def _cidr(cls, value: str) -> str:
        net = ipaddress.ip_network(cidr_block(value))
        if net.version != 4 or not 16 <= net.prefixlen <= 20:
            raise ValueError(
                "use an IPv4 /16 to /20 block so each AZ gets a /20-or-larger public and private subnet. "
                "Fix: e.g. 10.40.0.0/16"
            )
        return value

    @field_validator("vpc_id")
    @classmethod
    def _vpc(cls, value: str | None) -> str | None:
        return value if value is None else vpc_id(value)

    @field_validator("public_subnet_ids", "private_subnet_ids")
    @classmethod
    def _subnets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(subnet_id(item) for item in value)

    @model_validator(mode="after")
    def _bring_your_own_or_create(self) -> "NetworkSpec":
        problems: list[str] = []
        subnets = self.public_subnet_ids or self.private_subnet_ids
        if self.vpc_id is None and subnets:
            problems.append("network.vpc_id: subnet ids were given without their VPC. Fix: set vpc_id too.")
        if self.vpc_id is not None and not self.private_subnet_ids:
            problems.append(
                "network.private_subnet_ids: an existing VPC needs the private subnets for the GPU "
                "hosts. Fix: list them (>= 2 AZs)."
            )
        if self.vpc_id is not None and 0 < len(set(self.private_subnet_ids)) < 2:
            problems.append(
                "network.private_subnet_ids: GPU hosts in one subnet sit in one AZ, and one AZ out of GPU capacity "
                "stops the service. Fix: list private subnets in >= 2 AZs."
            )
        for kind, ids in (("public", self.public_subnet_ids), ("private", self.private_subnet_ids)):
            if len(set(ids)) < len(ids):
                problems.append(f"network.{kind}_subnet_ids: a subnet is listed twice. Fix: list each once.")
        if both := sorted(set(self.public_subnet_ids) & set(self.private_subnet_ids)):
            problems.append(
                f"network.private_subnet_ids: {', '.join(both)} is also listed as public, but a subnet routes out "
                "through either an internet gateway (public: the ALB) or a NAT (private: the GPU hosts, which have "
                "no public IP), so one of the two cannot work. "
                "Fix: list each subnet in one of public_subnet_ids or private_subnet_ids."
            )
        if self.vpc_id is not None and self.vpc_endpoints:
            problems.append(
                "network.vpc_endpoints: endpoints are created only in a VPC this blueprint creates. "
                "Fix: manage them with your VPC, or drop vpc_id."
            )
        if (
            self.vpc_id is None
            and self.nat_gateways == "none"
            and not {"ecr.api", "ecr.dkr", "s3", "logs"} <= set(self.vpc_endpoints)
        ):
            problems.append(
                "network.nat_gateways: with no NAT, private hosts cannot pull images or ship logs. "
                "Fix: add vpc_endpoints ecr.api, ecr.dkr, s3, logs (or keep a NAT)."
            )
        problems_to_error(problems)
        return self

    @property
    def creates_vpc(self) -> bool:
        return self.vpc_id is None

    def subnet_count(self, kind: Literal["public", "private"]) -> int:
        ids = self.public_subnet_ids if kind == "public" else self.private_subnet_ids
        return self.az_count if self.creates_vpc else len(ids)


class SpotSpec(Spec):
    """Spot share of the GPU hosts: an on-demand base, the on-demand percentage above it, the rest Spot."""

    on_demand_base: int = Field(default=1, ge=0, description="Hosts always on-demand. Default 1.")
    on_demand_percent_above_base: int = Field(
        default=0, ge=0, le=100, description="On-demand share above the base, percent. Default 0 (rest is Spot)."
    )
    allocation_strategy: Literal["price-capacity-optimized", "capacity-optimized"] = Field(
        default="price-capacity-optimized", description="Spot allocation. Default price-capacity-optimized."
    )


class WarmPoolSpec(Spec):
    """Stopped, pre-initialised GPU hosts that the Auto Scaling group starts faster than new ones (ECS needs
    ECS_WARM_POOLS_CHECK; instances are not reused on scale-in)."""

    min_size: int = Field(
        default=1, ge=0, description="Stopped instances the pool keeps, however many run. Default 1: exactly one."
    )
    max_prepared: int | None = Field(
        default=None,
        ge=0,
        description="Cap on pooled + running instances: the pool grows to max_prepared minus running (never below "
        "min_size). Default None: the pool holds exactly min_size (emitted as max_group_prepared_capacity 0).",
    )
    pool_state: Literal["Stopped", "Hibernated"] = Field(default="Stopped", description="Default Stopped.")
    reuse_on_scale_in: bool = Field(
        default=False, description="Return instances to the pool on scale-in. Default False (ECS does not support it)."
    )
    prepull_images: tuple[ImageReference, ...] = Field(
        default=(), description="More images pulled while a host warms, beside the blueprint's own. Default ()."
    )
    launch_timeout_seconds: int = Field(
        default=1800,
        ge=300,
        le=7200,
        description="How long a warming host may pull images; past it the pull stops and the launch is abandoned "
        "(the host heartbeats the lifecycle hook meanwhile). Default 1800.",
    )

    @property
    def stopped_hosts_at_rest(self) -> int:
        """Hosts the pool holds while none runs (what EBS is paid for at rest)."""
        return max(self.min_size, self.max_prepared or 0)

    @field_validator("reuse_on_scale_in")
    @classmethod
    def _no_reuse(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "ECS does not support warm-pool reuse on scale-in (instances would rejoin with stale "
                "agent state). Fix: leave reuse_on_scale_in False."
            )
        return value


# ecs.config settings the host template (sdk/constructs/templates/ecs_gpu_user_data.sh.j2) writes and the blueprints
# rely on: an override would be appended after them and win.
AGENT_SETTINGS_RELIED_ON = {
    "ECS_CLUSTER": "joins the host to the blueprint's cluster",
    "ECS_ENABLE_GPU_SUPPORT": "lets ECS place GPU tasks on the host",
    "ECS_AWSVPC_BLOCK_IMDS": "keeps awsvpc tasks off the host's instance-profile credentials",
    "ECS_ENABLE_TASK_IAM_ROLE": "gives bridge-mode tasks their task role",
    "ECS_ENABLE_SPOT_INSTANCE_DRAINING": "drains tasks before a Spot interruption",
    "ECS_WARM_POOLS_CHECK": "keeps a warming host from registering before it is in service",
    "ECS_RESERVED_MEMORY": "is the 256 MiB the capacity sizing subtracts (sdk/sizing.py)",
}
# Defaults the template writes that a spec may change; each change becomes a review note.
AGENT_DEFAULTS = {
    "ECS_ENABLE_CONTAINER_METADATA": "true",
    "ECS_IMAGE_CLEANUP_INTERVAL": "30m",
    "ECS_IMAGE_MINIMUM_CLEANUP_AGE": "1h",
    "ECS_NUM_IMAGES_DELETE_PER_CYCLE": "5",
    "ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION": "1h",
    "ECS_IMAGE_PULL_BEHAVIOR": "prefer-cached with a warm pool, else the agent's default",
}


class CapacitySpec(Spec):
    """The GPU hosts: instance types in order of preference, Spot share, host counts, disk and warm pool."""

    instance_types: tuple[str, ...] = Field(
        min_length=1, description="GPU instance types in order of preference (mixed instances). Required."
    )
    spot: SpotSpec | None = Field(default=None, description="Spot share. Default None: all on-demand.")
    min_hosts: int = Field(default=0, ge=0, description="ASG minimum. Default 0 (capacity provider scales).")
    max_hosts: int | None = Field(
        default=None, ge=1, description="ASG maximum. Default: derived from max tasks and tasks per host."
    )
    root_volume_gib: int = Field(
        default=100, ge=30, le=16384, description="Encrypted gp3 root (images + kernel caches). Default 100 GiB."
    )
    target_capacity_percent: int = Field(
        default=100, ge=1, le=100, description="Capacity provider target utilisation. Default 100 (no spare host)."
    )
    warm_pool: WarmPoolSpec | None = Field(default=None, description="Warm pool of stopped hosts. Default None.")
    ecs_agent_config: dict[str, str] = Field(
        default_factory=dict,
        description="Extra /etc/ecs/ecs.config lines (not the settings the blueprint relies on; changed defaults "
        "are review notes). Default none.",
    )
    gpu_metrics: GpuMetricsSpec = Field(
        default_factory=GpuMetricsSpec,
        description="CloudWatch agent GPU metrics from every host (sdk.gpu_metrics). Default on: 5 measurements per "
        "GPU and per group into namespace GpuBlueprints every 60 s, ~$0.30 per custom metric-month (~$1.94 per "
        "one-GPU host-month with its PutMetricData calls, plus $1.50 per group while a host runs; in the cost "
        "table).",
    )

    @field_validator("ecs_agent_config")
    @classmethod
    def _agent_config(cls, value: dict[str, str]) -> dict[str, str]:
        # Each pair becomes one line of a quoted heredoc inside a Terraform string: no line breaks, no template
        # sequences, no backslashes.
        for key, item in value.items():
            if not re.fullmatch(r"ECS_[A-Z0-9_]+", key):
                raise ValueError(f"{key!r} is not an ECS agent variable. Fix: a name like ECS_IMAGE_CLEANUP_INTERVAL")
            if key in AGENT_SETTINGS_RELIED_ON:
                raise ValueError(
                    f"{key} is set by the blueprint ({AGENT_SETTINGS_RELIED_ON[key]}); an override would break it. "
                    f"Fix: drop {key} from ecs_agent_config"
                )
            if any(bad in item for bad in ("\n", "\r", "\\", "${", "%{")):
                raise ValueError(
                    f"{key}={item!r} cannot go into ecs.config. Fix: one line without backslashes, ${{ or %{{"
                )
        return value

    @property
    def agent_config_notes(self) -> tuple[str, ...]:
        """Review notes for ecs_agent_config lines that change a default the host template writes."""
        return tuple(
            f"capacity.ecs_agent_config: {key}={value} replaces the blueprint's default ({AGENT_DEFAULTS[key]})."
            for key, value in sorted(self.ecs_agent_config.items())
            if key in AGENT_DEFAULTS
        )

    @field_validator("instance_types")
    @classmethod
    def _distinct_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) < len(value):
            raise ValueError(f"{', '.join(value)} lists a type twice. Fix: list each type once, in order of preference")
        return value

    @model_validator(mode="after")
    def _warm_pool_single_type(self) -> "CapacitySpec":
        if self.warm_pool is not None and len(self.instance_types) > 1:
            problems_to_error(
                [
                    "capacity.warm_pool: EC2 warm pools do not support mixed instance types "
                    f"({', '.join(self.instance_types)}). Fix: one instance type, or no warm pool."
                ]
            )
        if self.max_hosts is not None and self.min_hosts > self.max_hosts:
            problems_to_error(
                [f"capacity.min_hosts: {self.min_hosts} is more than max_hosts {self.max_hosts}. Fix: min <= max."]
            )
        if self.warm_pool is not None and self.spot is not None:
            problems_to_error(
                ["capacity.warm_pool: EC2 warm pools do not support Spot instances. Fix: drop spot or the warm pool."]
            )
        return self


DEFAULT_START_PERIOD_SECONDS = 120
ECS_MAX_START_PERIOD_SECONDS = 300  # ECS HealthCheck.startPeriod accepts 0-300 s


class HealthCheckSpec(Spec):
    """The container's health check (the ECS task definition's healthCheck)."""

    command: tuple[str, ...] = Field(min_length=2, description="CMD-SHELL or CMD form. Required.")
    interval_seconds: int = Field(default=30, ge=5, le=300, description="Default 30.")
    timeout_seconds: int = Field(default=5, ge=2, le=60, description="Default 5.")
    retries: int = Field(default=3, ge=1, le=10, description="Default 3.")
    start_period_seconds: int | None = Field(
        default=None,
        ge=0,
        le=ECS_MAX_START_PERIOD_SECONDS,
        description="Model load grace. Default None: 120 s plus the container's model download time (at most 300).",
    )

    @field_validator("command")
    @classmethod
    def _form(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if value[0] not in ("CMD", "CMD-SHELL"):
            raise ValueError(
                'start with "CMD" or "CMD-SHELL". Fix: e.g. ("CMD-SHELL", "curl -f localhost:8080/healthz")'
            )
        return value


class SecretRef(Spec):
    """One environment variable read from an SSM parameter or a Secrets Manager secret when the task starts."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Environment variable name. Required.")
    value_from: str = Field(description="ARN of an SSM parameter or Secrets Manager secret. Required.")

    @field_validator("value_from")
    @classmethod
    def _arn(cls, value: str) -> str:
        parts = arn_parts(value)
        if parts is not None and parts[0] not in ("ssm", "secretsmanager"):
            raise ValueError(
                "secrets come from SSM Parameter Store or Secrets Manager. Fix: an arn:aws:ssm:... parameter or "
                "arn:aws:secretsmanager:... secret ARN"
            )
        return value


class VolumeSpec(Spec):
    """A volume mounted into the container: task-scoped by default, or a host path."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="Volume name. Required.")
    container_path: MountPath = Field(description="Absolute mount path in the container. Required.")
    host_path: str | None = Field(default=None, description="Host path. Default None: a task-scoped volume.")
    shared: bool = Field(
        default=False,
        description="A Docker volume every task on the host shares and that outlives them (first use copies the "
        "image's folder and its owner). Default False: task-scoped.",
    )
    read_only: bool = Field(default=False, description="Default False.")

    @model_validator(mode="after")
    def _one_kind(self) -> "VolumeSpec":
        if self.shared and self.host_path is not None:
            problems_to_error([f"volumes.{self.name}: host_path or shared, not both. Fix: drop one."])
        return self


MODEL_CACHE_VOLUME = "model-cache"
# Assumed sustained download rates, for the health-check grace (docs/model_sources.md). S3: one connection's worth
# (AWS's S3 performance design patterns: "one concurrent request for each 85-90 MB/s"); any parallel client is faster.
# Hugging Face Hub: our assumption for a CDN download over a NAT, not a measured or published figure.
S3_DOWNLOAD_MIB_PER_SECOND = 80
HUB_DOWNLOAD_MIB_PER_SECOND = 50


def kms_key_arn(value: str) -> str:
    """A KMS key ARN (IAM cannot grant Decrypt on an alias ARN), or a cdktf token."""
    parts = arn_parts(value)
    if parts is not None and (parts[0] != "kms" or ":key/" not in value):
        raise ValueError(f"{value!r} is not a KMS key ARN. Fix: arn:aws:kms:<region>:<account>:key/<key id>")
    return value


class _ModelDownload(Spec):
    """What every model source shares: its size, from which the start-up grace period is estimated."""

    download_mib_per_second: ClassVar[int]
    size_gib: float | None = Field(
        default=None,
        gt=0,
        description="GiB the container downloads: adds download time to the health-check grace and is checked "
        "against the root volume. Default None: undeclared, no download time added.",
    )
    cache: Literal["host", "task"] = Field(
        default="host",
        description="'host': a Docker volume the host's tasks share, so a restarted task finds the download; "
        "'task': a volume per task. Default host.",
    )
    cache_path: MountPath = Field(
        default="/models",
        description="Where the writable cache is mounted (a folder the image's user owns). Default /models.",
    )

    @field_validator("cache_path")
    @classmethod
    def _cache_path(cls, value: str) -> str:
        if re.search(r"\s", value):
            raise ValueError(f"{value!r} has white space. Fix: {'-'.join(value.split())!r}")
        return value

    def download_seconds(self) -> int:
        return 0 if self.size_gib is None else math.ceil(self.size_gib * 1024 / self.download_mib_per_second)

    def cache_volume(self) -> VolumeSpec:
        return VolumeSpec(name=MODEL_CACHE_VOLUME, container_path=self.cache_path, shared=self.cache == "host")

    def secrets(self) -> tuple[SecretRef, ...]:
        return ()


class S3ModelSource(_ModelDownload):
    """Model files under an S3 prefix: the task role may read that prefix only; the container copies it into
    MODEL_DIR (e.g. `aws s3 sync "$MODEL_S3_URI" "$MODEL_DIR"`)."""

    download_mib_per_second: ClassVar[int] = S3_DOWNLOAD_MIB_PER_SECOND
    kind: Literal["s3"] = Field(default="s3", description="Model source type (discriminator). Default s3.")
    uri: str = Field(description="s3://bucket/prefix/ holding the model files (one prefix per version). Required.")
    kms_key_arn: str | None = Field(
        default=None,
        description="Customer-managed KMS key the objects are encrypted with: adds kms:Decrypt through S3. "
        "Default None: SSE-S3 or the AWS-managed key (no grant needed).",
    )

    @field_validator("kms_key_arn")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return value if value is None else kms_key_arn(value)

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^*?\s]+/", value):
            raise ValueError(
                f"{value!r} is not an S3 prefix. Fix: s3://<bucket>/<prefix>/ (a folder ending in '/', no wildcards)"
            )
        return value

    @property
    def bucket(self) -> str:
        return self.uri.removeprefix("s3://").split("/", 1)[0]

    @property
    def prefix(self) -> str:
        return self.uri.removeprefix("s3://").split("/", 1)[1]

    def environment(self) -> dict[str, str]:
        local = f"{self.cache_path.rstrip('/')}/{self.bucket}/{self.prefix.rstrip('/')}"
        return {"MODEL_SOURCE": "s3", "MODEL_S3_URI": self.uri, "MODEL_DIR": local}


class HuggingFaceModelSource(_ModelDownload):
    """A Hugging Face Hub repository, downloaded by the container's own hub client into HF_HOME (the cache volume)."""

    download_mib_per_second: ClassVar[int] = HUB_DOWNLOAD_MIB_PER_SECOND
    kind: Literal["huggingface"] = Field(
        default="huggingface", description="Model source type (discriminator). Default huggingface."
    )
    repo_id: str = Field(
        pattern=r"^([A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$",
        description="Hub repository, e.g. stabilityai/stable-diffusion-xl-base-1.0. Required.",
    )
    revision: str | None = Field(
        default=None,
        pattern=r"^[\w./-]+$",
        description="Commit, branch or tag. Default None: whatever the default branch holds when a task starts.",
    )
    token: SecretRef | None = Field(
        default=None,
        description="Hub token for gated or private repos, e.g. SecretRef(name='HF_TOKEN', value_from=<Secrets "
        "Manager or SSM ARN>). Default None: public repos only.",
    )

    def environment(self) -> dict[str, str]:
        env = {"MODEL_SOURCE": "huggingface", "MODEL_ID": self.repo_id, "HF_HOME": self.cache_path}
        return env | ({"MODEL_REVISION": self.revision} if self.revision else {})

    def secrets(self) -> tuple[SecretRef, ...]:
        return (self.token,) if self.token else ()


ModelSource = Annotated[S3ModelSource | HuggingFaceModelSource, Field(discriminator="kind")]


class SecretInEnvironmentWarning(UserWarning):
    """A plain `environment` variable whose name (or URL value) looks like a secret."""


# Last word of a variable's name (case-insensitive, words split at "_", "-", "." and camelCase) that marks a secret.
# Not PASS (Blender's render passes) nor PWD (the shell's working directory); *_KEY_ID, *_SECRET_ARN, *_TOKEN_URL,
# *_PASSWORD_FILE end in another word, so they are not flagged.
SECRET_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "CREDENTIALS", "CREDS", "APIKEY", "KEY"}
)
# *_KEY names that are identifiers or public material, not secrets.
NON_SECRET_KEYS = frozenset(
    {"PUBLIC", "KMS", "S3", "OBJECT", "CACHE", "PARTITION", "SORT", "HASH", "PRIMARY", "ROUTING", "IDEMPOTENCY"}
)
_URL_WITH_PASSWORD = re.compile(r"://[^/@:\s]*:[^/@\s]+@")


def looks_secret(name: str, value: str) -> bool:
    """True when a plain environment variable probably holds a secret: its name's last word is in SECRET_WORDS (a
    *_KEY unless NON_SECRET_KEYS names its kind), or its value is a URL with a password (postgres://u:p@host).
    An empty value or an absolute path (a file the secret lives in, e.g. GOOGLE_APPLICATION_CREDENTIALS) is not."""
    if not value or value.startswith("/"):
        return False
    words = re.split(r"[^A-Z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper())
    words = [word for word in words if word] or [""]
    named = words[-1] in SECRET_WORDS and not (words[-1] == "KEY" and len(words) > 1 and words[-2] in NON_SECRET_KEYS)
    return named or bool(_URL_WITH_PASSWORD.search(value))


def _caller_stacklevel() -> int:
    """warnings.warn's stacklevel for the first frame outside pydantic and this module (the user's spec)."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(("pydantic", __name__)):
        frame, level = frame.f_back, level + 1
    return level


def secrets_in_environment_note(field: str, environment: dict[str, str], secrets_field: str) -> str | None:
    """The review note (and warning) for secret-looking names in a plain environment, or None."""
    names = sorted(name for name, value in environment.items() if looks_secret(name, value))
    if not names:
        return None
    return (
        f"{field}: {', '.join(names)} {'looks like a secret' if len(names) == 1 else 'look like secrets'} in plain "
        f"text: the task definition, the ECS console and the Terraform state show it to anyone who can read those. "
        f"Fix: move it to {secrets_field} "
        "(SecretRef(name=..., value_from=<SSM parameter or Secrets Manager secret ARN>))."
    )


class ContainerSpec(Spec):
    """The GPU container: image, port, GPUs, CPU and memory, environment, secrets, volumes and health check."""

    image: ImageReference = Field(min_length=3, description="Image URI (ECR recommended). Required.")
    port: int | None = Field(default=None, ge=1, le=65535, description="Container port. Default None (no port).")
    gpu: float = Field(default=1, gt=0, description="GPUs per task: a count, or a fraction on g6f/gr6f. Default 1.")
    gpu_memory_mib: int | None = Field(
        default=None, gt=0, description="GPU memory the model needs (checked). Default None: unchecked."
    )
    cpu: int = Field(default=2048, ge=128, description="CPU units (1024 per vCPU). Default 2048.")
    memory_mib: int = Field(default=8192, ge=256, description="Hard memory limit, MiB. Default 8192.")
    command: tuple[str, ...] = Field(default=(), description="Command override. Default: the image's.")
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="Plain environment, readable in the task definition (secret-looking names warn: use secrets). "
        "Default none.",
    )
    secrets: tuple[SecretRef, ...] = Field(default=(), description="Secrets injected at start. Default none.")
    health_check: HealthCheckSpec | None = Field(default=None, description="Container health check. Default none.")
    read_only_root: bool = Field(default=True, description="Read-only root filesystem. Default True.")
    scratch_paths: tuple[MountPath, ...] = Field(
        default=("/tmp",), description="Writable task-scoped volumes when the root is read-only. Default (/tmp,)."
    )
    volumes: tuple[VolumeSpec, ...] = Field(default=(), description="Extra volumes. Default none.")
    user: str | None = Field(default=None, description="Run as this uid[:gid]. Default: the image's user.")
    stop_timeout_seconds: int | None = Field(
        default=None,
        ge=2,
        le=120,
        description="Seconds ECS waits after SIGTERM before it kills the container (stopTimeout). Default None: "
        "the agent's 30 s.",
    )
    log_retention_days: int = Field(default=30, description="CloudWatch Logs retention. Default 30.")
    shared_memory_mib: int | None = Field(
        default=None,
        ge=1,
        description="Size of /dev/shm, MiB (linuxParameters.sharedMemorySize; counts against memory_mib when used; "
        "PyTorch DataLoader workers and NCCL want GBs). Default None: Docker's 64 MiB.",
    )
    model_source: ModelSource | None = Field(
        default=None,
        description="Where the model comes from: S3ModelSource or HuggingFaceModelSource is downloaded at start into "
        "a writable cache volume, with its environment, read grant or token, and a longer health-check grace. "
        "Default None: the image brings its model.",
    )

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            nearest = min(LOG_RETENTION_DAYS, key=lambda days: abs(days - value))
            raise ValueError(f"CloudWatch accepts {', '.join(map(str, LOG_RETENTION_DAYS))}. Fix: e.g. {nearest}")
        return value

    @model_validator(mode="after")
    def _names_once(self) -> "ContainerSpec":
        source_env = self.model_source.environment() if self.model_source else {}
        if taken := sorted(set(self.environment) & set(source_env)):
            problems_to_error(
                [f"container.environment: {', '.join(taken)} is set by model_source. Fix: drop it from environment."]
            )
        ecs = self.with_model_source()
        secret_names = [secret.name for secret in ecs.secrets]
        both = sorted(set(ecs.environment) & set(secret_names))
        if both:
            problems_to_error(
                [f"container.environment: {', '.join(both)} is also a secret. Fix: set it in one of the two."]
            )
        if len(set(secret_names)) < len(secret_names):
            problems_to_error(["container.secrets: a variable is set twice (model_source.token?). Fix: once."])
        paths = [*(ecs.scratch_paths if ecs.read_only_root else ()), *(v.container_path for v in ecs.volumes)]
        names = [v.name for v in ecs.volumes]
        if len(set(paths)) < len(paths) or len(set(names)) < len(names):
            problems_to_error(["container.volumes: a mount path or volume name is used twice. Fix: one each."])
        if self.shared_memory_mib is not None and self.shared_memory_mib >= self.memory_mib:
            problems_to_error(
                [
                    f"container.shared_memory_mib: {self.shared_memory_mib} MiB of /dev/shm does not fit the task's "
                    f"memory_mib {self.memory_mib} (shared memory counts against it). Fix: at most "
                    f"{self.memory_mib // 2}, or raise memory_mib."
                ]
            )
        return self

    def with_model_source(self) -> "ContainerSpec":
        """The container as ECS runs it: the model source's environment, token and cache volume folded into the
        plain fields, and a health check's default start period extended by the download (capped at ECS's 300 s;
        a service's health-check grace also covers container health checks, so the ALB blueprint's grace holds)."""
        update: dict[str, object] = {}
        if (check := self.health_check) is not None and check.start_period_seconds is None:
            start = min(ECS_MAX_START_PERIOD_SECONDS, DEFAULT_START_PERIOD_SECONDS + self.model_download_seconds)
            update["health_check"] = check.model_copy(update={"start_period_seconds": start})
        if (source := self.model_source) is not None:
            update |= {
                "model_source": None,
                "environment": {**self.environment, **source.environment()},
                "secrets": (*self.secrets, *source.secrets()),
                "volumes": (*self.volumes, source.cache_volume()),
            }
        return self.model_copy(update=update) if update else self

    @property
    def model_download_seconds(self) -> int:
        """Estimated seconds to download the model at start (0 when the image brings it or no size is declared)."""
        return self.model_source.download_seconds() if self.model_source else 0

    @model_validator(mode="after")
    def _warn_plain_secrets(self) -> "ContainerSpec":
        for note in self.plain_secret_notes:
            warnings.warn(note, SecretInEnvironmentWarning, stacklevel=_caller_stacklevel())
        return self

    @property
    def plain_secret_notes(self) -> tuple[str, ...]:
        """Review notes naming secret-looking `environment` variables (empty: none)."""
        note = secrets_in_environment_note("container.environment", self.environment, "container.secrets")
        return (note,) if note else ()

    @property
    def ecr_repository(self) -> tuple[str, str, str] | None:
        """(account, region, repository) when the image is in ECR, else None."""
        return ecr_repository(self.image)


class AlarmsSpec(Spec):
    """Where alarms go: an SNS topic you bring, or one created (encrypted with a customer-managed key)."""

    sns_topic_arn: str | None = Field(default=None, description="Existing SNS topic for alarms. Default None.")

    @field_validator("sns_topic_arn")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        return value if value is None else sns_topic_arn(value)

    create_topic: bool = Field(default=False, description="Create an encrypted SNS topic. Default False.")

    @model_validator(mode="after")
    def _one_topic(self) -> "AlarmsSpec":
        if self.sns_topic_arn and self.create_topic:
            problems_to_error(["alarms.create_topic: give sns_topic_arn or create_topic, not both."])
        return self
