"""Cross-field checks against the GPU catalog. Each problem names its field and the fix."""

import math
import re
from collections.abc import Sequence

from sdk import sizing
from sdk.catalog import CATALOG, GpuInstanceType
from sdk.specs import CapacitySpec, ContainerSpec, HuggingFaceModelSource, NetworkSpec, S3ModelSource

# The root volume holds the AMI (its snapshot is 30 GB: block_device_size_gb in aws/amazon-ecs-ami's
# variables.pkr.hcl) and the images, two versions of each during a deployment (we assume 20 GiB for those).
ROOT_VOLUME_RESERVED_GIB = 30 + 20


def unknown_instance_types(instance_types: Sequence[str], field: str) -> list[str]:
    return [
        f"{field}: {name!r} is not in the GPU catalog. Fix: use one of the families "
        f"{', '.join(sorted({i.family for i in CATALOG.instances.values()}))} (e.g. g5.xlarge)."
        for name in instance_types
        if name not in CATALOG
    ]


def task_fit_problems(
    instance_types: Sequence[str], container: ContainerSpec, *, types_field: str, container_field: str = "container"
) -> list[str]:
    """Why the task cannot run on each listed type (the ASG may launch any of them)."""
    problems = unknown_instance_types(instance_types, types_field)
    if problems:
        return problems
    for name in instance_types:
        instance = CATALOG.get(name)
        if (shape := sizing.gpu_shape_problem(instance, container.gpu, f"{container_field}.gpu")) is not None:
            problems.append(shape)
            continue
        problems += _resource_problems(instance, container, container_field)
    return problems


def _resource_problems(instance: GpuInstanceType, container: ContainerSpec, field: str) -> list[str]:
    name, problems = instance.instance_type, []
    if container.gpu_memory_mib is not None:
        offered = int(instance.gpu_memory_per_gpu_mib * (1 if instance.fractional else container.gpu))
        if container.gpu_memory_mib > offered:
            problems.append(
                f"{field}.gpu_memory_mib: {container.gpu_memory_mib} MiB is more than {container.gpu:g} "
                f"GPU of {name} has ({offered} MiB). Fix: more GPUs per task or a larger GPU type."
            )
    if container.cpu > instance.vcpu * sizing.ECS_CPU_UNITS_PER_VCPU:
        problems.append(
            f"{field}.cpu: {container.cpu} units is more than {name} has ({instance.vcpu} vCPU = "
            f"{instance.vcpu * sizing.ECS_CPU_UNITS_PER_VCPU}). Fix: lower cpu or a larger size."
        )
    if container.memory_mib > (registered := sizing.registered_memory_mib(instance)):
        problems.append(
            f"{field}.memory_mib: {container.memory_mib} MiB is more than ECS can place on {name} "
            f"({registered} MiB after OS/agent overhead). Fix: lower memory_mib or a larger size."
        )
    return problems


def min_tasks_per_host(instance_types: Sequence[str], container: ContainerSpec) -> int:
    """Tasks per host on the smallest listed type (sizing must hold whichever type the ASG launches)."""
    return min(
        sizing.tasks_per_host(
            CATALOG.get(name),
            gpus_per_task=container.gpu,
            cpu_units_per_task=container.cpu,
            memory_mib_per_task=container.memory_mib,
        )
        for name in instance_types
    )


def max_gpus_per_host(instance_types: Sequence[str]) -> float:
    return max(CATALOG.get(name).gpus for name in instance_types)


REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def region_environment_problems(environment: dict[str, str], region: str | None, field: str) -> list[str]:
    """Every task gets AWS_REGION and AWS_DEFAULT_REGION = the stack region (older ECS agents inject neither, and
    boto3 then raises NoRegionError); a user value naming another region would point the SDK elsewhere. Region None
    (the spec leaves it to the stack): checked when the blueprint is added to its stack."""
    if region is None:
        return []
    return [
        f"{field}: {name}={environment[name]!r} but the stack deploys to {region}; the blueprint sets {name} to the "
        f"stack region. Fix: drop {name} (or set it to {region!r})."
        for name in REGION_VARIABLES
        if environment.get(name, region) != region
    ]


def region_problem(arn: str, region: str | None, field: str) -> str | None:
    from sdk.specs import arn_parts

    parts = arn_parts(arn)
    if region is not None and parts is not None and parts[1] and parts[1] != region:
        return (
            f"{field}: the ARN is in {parts[1]} but the stack deploys to {region}. "
            f"Fix: use a resource from {region} (ACM certificates are regional for ALBs)."
        )
    return None


def model_source_problems(network: NetworkSpec, container: ContainerSpec, field: str = "container") -> list[str]:
    """A Hub download needs a route to the internet: a VPC we create without NAT has none."""
    hub = isinstance(container.model_source, HuggingFaceModelSource)
    if not (hub and network.creates_vpc and network.nat_gateways == "none"):
        return []
    return [
        f"{field}.model_source: the Hugging Face Hub is on the internet but network.nat_gateways is 'none' "
        "(no route out). Fix: mirror the model to S3 and use S3ModelSource (read over the s3 gateway "
        "endpoint), or set network.nat_gateways='single'."
    ]


def model_cache_problems(capacity: CapacitySpec, container: ContainerSpec, tasks_per_host: int) -> list[str]:
    """The declared model must fit on the host's root volume beside the AMI and the images."""
    source = container.model_source
    if source is None or source.size_gib is None:
        return []
    copies = 1 if source.cache == "host" else tasks_per_host
    needed = math.ceil(copies * source.size_gib) + ROOT_VOLUME_RESERVED_GIB
    if needed <= capacity.root_volume_gib:
        return []
    return [
        f"capacity.root_volume_gib: {capacity.root_volume_gib} GiB cannot hold {copies} x {source.size_gib:g} GiB of "
        f"model cache beside the AMI and images ({ROOT_VOLUME_RESERVED_GIB} GiB). Fix: root_volume_gib >= {needed}."
    ]


def model_source_notes(network: NetworkSpec, container: ContainerSpec, region: str) -> tuple[str, ...]:
    """What a reviewer should know about where the model comes from (things we cannot check)."""
    source = container.model_source
    if source is None:
        return ()
    notes = []
    if isinstance(source, HuggingFaceModelSource):
        if source.token is None:
            notes.append(
                f"Model {source.repo_id} is downloaded without a Hub token: a gated or private repo answers 401/403 "
                "and no task becomes healthy. If it is gated, set model_source.token (HF_TOKEN from Secrets Manager "
                "or SSM)."
            )
        if source.revision is None:
            notes.append(
                f"Model {source.repo_id} has no pinned revision: each new task loads what the default branch holds "
                "then. Pin a commit for repeatable deployments."
            )
    if not network.creates_vpc:
        route = "a NAT to the internet" if isinstance(source, HuggingFaceModelSource) else "an S3 endpoint or a NAT"
        notes.append(f"The VPC is yours: its private subnets need {route} to fetch the model (not checked).")
    elif isinstance(source, S3ModelSource) and network.nat_gateways == "none":
        notes.append(
            f"Bucket {source.bucket} is read over the s3 gateway endpoint, which reaches buckets in {region} only."
        )
    if source.size_gib is None:
        notes.append("model_source.size_gib is not declared: the health-check grace adds no download time.")
    return tuple(notes)


# The ECS cluster query language ("Create expressions to define container instances for Amazon ECS tasks",
# docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-query-language.html): `subject operator [argument]`,
# joined by and/&&, or/||, grouped with parentheses, negated with not/!; in and not_in take a [list].
CQL_SUBJECTS = ("agentConnected", "agentVersion", "ec2InstanceId", "registeredAt", "runningTasksCount", "task:group")
CQL_OPERATORS = frozenset(
    {"==", "equals", "!=", "not_equals", "=~", "matches", "!~", "not_matches", ">", "greater_than", ">=",
     "greater_than_equal", "<", "less_than", "<=", "less_than_equal"}
)  # fmt: skip
CQL_LIST_OPERATORS = frozenset({"in", "not_in", "!in"})
_CQL_TOKEN = re.compile(r"\s*(==|!=|=~|!~|>=|<=|&&|\|\||!in\b|[()\[\],<>!]|[^\s()\[\],]+)")


class _Query:
    """A recursive-descent reader of one cluster query; raises ValueError with the reason."""

    def __init__(self, text: str) -> None:
        self.tokens, position = [], 0
        while position < len(text.rstrip()):
            match = _CQL_TOKEN.match(text, position)
            assert match is not None  # the last alternative matches any non-space run
            self.tokens.append(match.group(1))
            position = match.end()
        self.index = 0

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, what: str) -> str:
        token = self.peek()
        if token is None:
            raise ValueError(f"it ends where {what} should follow")
        self.index += 1
        return token

    def expect(self, token: str) -> None:
        if (found := self.take(f"'{token}'")) != token:
            raise ValueError(f"expected '{token}', found {found!r}")

    def expression(self) -> None:
        self.term()
        while self.peek() in ("and", "&&", "or", "||"):
            self.index += 1
            self.term()

    def term(self) -> None:
        if self.peek() in ("not", "!"):
            self.index += 1
        if self.peek() == "(":
            self.index += 1
            self.expression()
            self.expect(")")
            return
        self.condition()

    def condition(self) -> None:
        subject = self.take("a subject")
        if subject not in CQL_SUBJECTS and not re.fullmatch(r"attribute:[\w.:-]+", subject):
            raise ValueError(f"{subject!r} is no subject (attribute:<name>, {', '.join(CQL_SUBJECTS)})")
        operator = self.take("an operator")
        if operator == "exists":
            return
        if operator in CQL_LIST_OPERATORS:
            self.expect("[")
            self.value()
            while self.peek() == ",":
                self.index += 1
                self.value()
            self.expect("]")
        elif operator in CQL_OPERATORS:
            self.value()
        else:
            raise ValueError(f"{operator!r} is no operator (==, !=, exists, in, not_in, =~, !~, >, >=, <, <=)")

    def value(self) -> None:
        if (token := self.take("a value")) in ("(", ")", "[", "]", ",", "and", "or", "&&", "||"):
            raise ValueError(f"expected a value, found {token!r}")


def cluster_query(value: str) -> str:
    """`value` when ECS can parse it as a cluster query expression, else ValueError with the reason and the fix."""
    query = _Query(value)
    try:
        query.expression()
        if (extra := query.peek()) is not None:
            raise ValueError(f"{extra!r} follows a complete expression (join conditions with and/or)")
    except ValueError as error:
        raise ValueError(
            f"{value!r} is not an ECS cluster query expression: {error}. Fix: subject operator [argument], e.g. "
            "'attribute:ecs.instance-type =~ g6.*' or 'attribute:ecs.instance-type in [g6.xlarge, g6.2xlarge]'"
        ) from None
    return value
