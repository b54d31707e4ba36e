"""The local AWS of the rehearsal: moto in server mode on 127.0.0.1, with the gaps Terraform trips on filled.

Run as `python -m sdk.rehearse.emulator --port N`; `Emulator` starts and stops one such process per stack. Each gap
is one `Gap`: the API Terraform calls, why it matters, and the smallest correct answer. Nothing here changes what
a stack asks for; it only makes the emulator answer as AWS documents.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore import xform_name

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Gap:
    service: str
    api: str
    reason: str
    fill: Callable[[], None]


def _sqs_queue_attributes() -> None:
    from moto.sqs.models import Queue

    Queue.BASE_ATTRIBUTES = [*Queue.BASE_ATTRIBUTES, "RedriveAllowPolicy"]
    Queue.redrive_allow_policy = None  # type: ignore[attr-defined]
    attributes = Queue.attributes.fget  # type: ignore[attr-defined]
    set_attributes = Queue._set_attributes

    def as_sqs_returns_them(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = attributes(self)
        if not result.get("RedriveAllowPolicy"):  # set to "" is unset, as SQS reports it
            result.pop("RedriveAllowPolicy", None)
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    def keep_policy(self: Any, attributes: dict[str, Any], now: Any = None) -> None:
        policy = getattr(self, "policy", None)
        set_attributes(self, attributes, now)
        if "Policy" not in attributes:
            self.policy = policy

    Queue.attributes = property(as_sqs_returns_them)  # type: ignore[assignment,method-assign]
    Queue._set_attributes = keep_policy  # type: ignore[method-assign]


def _echo(response_cls: Any, method: str, find: Callable[[Any], Any], members: tuple[str, ...]) -> None:
    """After moto's handler, store the request members it drops on the model, where its serializer reads them."""
    handler = getattr(response_cls, method)

    def echoing(self: Any) -> Any:
        result = handler(self)
        target = find(self)
        for member in members:
            value = self._get_param(member)
            if value is not None:
                setattr(target, xform_name(member), value)
        return result

    setattr(response_cls, method, echoing)


def _ecs_service_settings() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse

    def service(self: Any) -> Any:
        name = self._get_param("serviceName") or self._get_param("service")
        return self.ecs_backend.describe_services(self._get_param("cluster", "default"), [name])[0][0]

    members = (
        "capacityProviderStrategy",
        "placementConstraints",
        "placementStrategy",
        "enableECSManagedTags",
        "enableExecuteCommand",
        "healthCheckGracePeriodSeconds",
        "deploymentConfiguration",
        "availabilityZoneRebalancing",
        "propagateTags",
    )
    for method in ("create_service", "update_service"):
        _echo(EC2ContainerServiceResponse, method, service, members)


def _ecs_bridge_service_network() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse

    create = EC2ContainerServiceResponse.create_service

    def no_network_unless_given(self: Any) -> Any:
        result = create(self)
        if self._get_param("networkConfiguration") is None:
            cluster, name = self._get_param("cluster", "default"), self._get_param("serviceName")
            self.ecs_backend.describe_services(cluster, [name])[0][0].network_configuration = None
        return result

    EC2ContainerServiceResponse.create_service = no_network_unless_given  # type: ignore[method-assign]


def _security_group_rule_description() -> None:
    from moto.ec2.models.security_groups import SecurityGroupRule

    def of_the_range_or_the_group(self: Any) -> str | None:
        return self.ip_range.get("Description") or (self.source_group or {}).get("Description")

    SecurityGroupRule.description = property(of_the_range_or_the_group)  # type: ignore[assignment,method-assign]


def _ecs_all_capacity_providers() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    describe = EC2ContainerServiceBackend.describe_capacity_providers

    def all_when_unnamed(self: Any, names: list[str] | None) -> Any:
        return describe(self, names or list(self.capacity_providers))

    EC2ContainerServiceBackend.describe_capacity_providers = all_when_unnamed  # type: ignore[method-assign]


def _autoscaling_group_settings() -> None:
    from moto.autoscaling.responses import AutoScalingResponse

    def group(self: Any) -> Any:
        return self.autoscaling_backend.autoscaling_groups[self._get_param("AutoScalingGroupName")]

    for method in ("create_auto_scaling_group", "update_auto_scaling_group"):
        _echo(AutoScalingResponse, method, group, ("DefaultInstanceWarmup",))


def _autoscaling_force_delete() -> None:
    from moto.autoscaling.responses import AutoScalingResponse

    delete = AutoScalingResponse.delete_auto_scaling_group

    def terminating_every_instance(self: Any) -> Any:
        group = self.autoscaling_backend.autoscaling_groups.get(self._get_param("AutoScalingGroupName"))
        ids = [state.instance.id for state in group.instance_states] if group is not None else []
        result = delete(self)
        if ids and self._get_bool_param("ForceDelete", False):
            self.autoscaling_backend.ec2_backend.terminate_instances(ids)
        return result

    AutoScalingResponse.delete_auto_scaling_group = terminating_every_instance  # type: ignore[method-assign]


def _launch_template_own_tags() -> None:
    from moto.ec2.responses.launch_templates import LaunchTemplates

    create = LaunchTemplates.create_launch_template

    def template_tags_stay_on_the_template(self: Any) -> Any:
        result = create(self)
        template = self.ec2_backend.get_launch_template_by_name(self._get_param("LaunchTemplateName"))
        for version in template.versions:
            specs = [s for s in version.data.get("TagSpecifications", []) if s["ResourceType"] != "launch-template"]
            version.data["TagSpecifications"] = specs
            if not specs:
                del version.data["TagSpecifications"]
        return result

    LaunchTemplates.create_launch_template = template_tags_stay_on_the_template  # type: ignore[method-assign]


def _application_autoscaling_tags() -> None:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    tags: dict[str, dict[str, str]] = {}

    def list_tags_for_resource(self: Any) -> str:
        return json.dumps({"Tags": tags.get(self._get_param("ResourceARN"), {})})

    def tag_resource(self: Any) -> str:
        tags.setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self: Any) -> str:
        held = tags.get(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            held.pop(key, None)
        return "{}"

    register = ApplicationAutoScalingResponse.register_scalable_target

    def register_with_tags(self: Any) -> str:
        body = register(self)
        if self._get_param("Tags"):
            tags.setdefault(json.loads(body)["ScalableTargetARN"], {}).update(self._get_param("Tags"))
        return body

    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.tag_resource = tag_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.untag_resource = untag_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.register_scalable_target = register_with_tags  # type: ignore[method-assign]


GAPS: tuple[Gap, ...] = (
    Gap(
        "sqs",
        "GetQueueAttributes, SetQueueAttributes",
        "moto never returns RedriveAllowPolicy (the provider waits for it until timeout), clears Policy when another "
        "attribute is set, and returns RedrivePolicy with spaces where SQS returns compact JSON (a perpetual diff)",
        _sqs_queue_attributes,
    ),
    Gap(
        "ecs",
        "CreateService, UpdateService -> DescribeServices",
        "moto drops capacityProviderStrategy, placement, Exec, managed tags, grace period and deployment settings, "
        "so every re-plan would replace the service",
        _ecs_service_settings,
    ),
    Gap(
        "ecs",
        "CreateService without networkConfiguration -> DescribeServices",
        "moto returns an empty networkConfiguration for a bridge-mode service where ECS returns none; provider "
        "5.100.0 then dereferences the missing awsvpcConfiguration and crashes",
        _ecs_bridge_service_network,
    ),
    Gap(
        "ec2",
        "DescribeSecurityGroupRules (Description of a rule that references a group)",
        "moto reads a rule's description from its CIDR range only, so a rule to another security group loses it "
        "(a perpetual diff)",
        _security_group_rule_description,
    ),
    Gap(
        "ecs",
        "DescribeCapacityProviders without names",
        "ECS returns every provider; moto fails with a 500 (the leftover check lists them)",
        _ecs_all_capacity_providers,
    ),
    Gap(
        "autoscaling",
        "CreateAutoScalingGroup -> DescribeAutoScalingGroups",
        "moto drops DefaultInstanceWarmup (a perpetual diff)",
        _autoscaling_group_settings,
    ),
    Gap(
        "autoscaling",
        "DeleteAutoScalingGroup(ForceDelete)",
        "moto scales the group to 0 first, which leaves scale-in-protected instances running; Auto Scaling "
        "terminates every instance of a force-deleted group",
        _autoscaling_force_delete,
    ),
    Gap(
        "ec2",
        "CreateLaunchTemplate -> DescribeLaunchTemplateVersions",
        "moto copies the template's own tags (resource type launch-template) into the version data, where EC2 "
        "keeps only instance/volume tag specifications (a perpetual diff)",
        _launch_template_own_tags,
    ),
    Gap(
        "application-autoscaling",
        "ListTagsForResource, TagResource, UntagResource",
        "not implemented in moto 5.2: aws_appautoscaling_target retries its tag read until timeout",
        _application_autoscaling_tags,
    ),
)

# AWS-managed policies (AmazonEC2ContainerServiceforEC2Role, ...) exist in moto only when it loads them.
ENVIRONMENT = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ALLOW_NONEXISTENT_REGION": "false"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def serve(port: int) -> None:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    for gap in GAPS:
        gap.fill()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    print(f"ready {HOST}:{port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


class Emulator:
    """One moto server process on a free loopback port (`.url`); a context manager."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> "Emulator":
        self._process = subprocess.Popen(
            [sys.executable, "-m", "sdk.rehearse.emulator", "--port", str(self.port)],
            env={**os.environ, **ENVIRONMENT},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("ready"):
            self.__exit__()
            raise RuntimeError(f"the moto server did not start on {self.url}")
        self._wait_until_answering()
        return self

    def _wait_until_answering(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def client_factory(self, region: str) -> Callable[[str], Any]:
        """boto3 clients of this emulator (dummy credentials), one per service name."""
        import boto3

        session = boto3.session.Session(
            aws_access_key_id="rehearsal", aws_secret_access_key="rehearsal", region_name=region
        )
        made: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in made:
                made[service] = session.client(service, endpoint_url=self.url)  # type: ignore[call-overload]
            return made[service]

        return client

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args(argv).port)


if __name__ == "__main__":
    main()
