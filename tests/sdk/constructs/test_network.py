"""Network: AZs chosen from what the GPU types and interface endpoints offer; NAT per AZ or shared."""

import json
import re
from typing import Any

import pytest

from sdk.constructs.engine import Testing
from sdk.constructs.network import Network, NetworkConflictError
from sdk.constructs.stack import GpuStack
from sdk.cost import estimate_stack
from sdk.hints import read_hints
from sdk.specs import NetworkSpec

TYPES = ("g5.2xlarge", "g6.2xlarge")


def synth_network(spec: NetworkSpec, instance_types: tuple[str, ...] = TYPES) -> dict[str, Any]:
    stack = GpuStack(Testing.app(), "net", region="us-east-1")
    Network(stack, "network", name="svc", spec=spec, instance_types=instance_types)
    return json.loads(Testing.synth(stack))


def refs(expression: str, kind: str) -> list[str]:
    return re.findall(rf"data\.{kind}\.(\w+)\.", expression)


@pytest.fixture(scope="module")
def with_endpoints() -> dict[str, Any]:
    return synth_network(NetworkSpec(az_count=3, vpc_endpoints=("ecr.api", "ecr.dkr", "s3")))


def test_subnets_go_to_the_sorted_zones_that_offer_every_gpu_type_and_interface_endpoint(with_endpoints):
    # GIVEN a 3-AZ VPC for g5.2xlarge and g6.2xlarge hosts with ecr.api, ecr.dkr (interface) and s3 (gateway)
    tf = with_endpoints
    # WHEN it is synthesized
    offerings = tf["data"]["aws_ec2_instance_type_offerings"]
    services = tf["data"]["aws_vpc_endpoint_service"]
    [(local_name, zones)] = tf["locals"].items()
    # THEN one zone offering per type, by availability-zone name
    assert sorted(o["filter"][0]["values"][0] for o in offerings.values()) == sorted(TYPES)
    assert {(o["location_type"], o["filter"][0]["name"]) for o in offerings.values()} == {
        ("availability-zone", "instance-type")
    }
    # AND one endpoint service per interface endpoint (the s3 gateway is in every zone)
    assert sorted(s["service_name"] for s in services.values()) == [
        "com.amazonaws.us-east-1.ecr.api",
        "com.amazonaws.us-east-1.ecr.dkr",
    ]
    assert {s["service_type"] for s in services.values()} == {"Interface"}
    # AND the zones are the available ones intersected with every offering and endpoint, sorted
    assert zones.startswith("${sort(setintersection(data.aws_availability_zones.")
    assert sorted(refs(zones, "aws_ec2_instance_type_offerings")) == sorted(offerings)
    assert sorted(refs(zones, "aws_vpc_endpoint_service")) == sorted(services)
    assert all(f"{name}.locations" in zones for name in offerings)
    assert all(f"{name}.availability_zones" in zones for name in services)
    # AND subnet i of each tier sits in zone i of that list
    subnets = tf["resource"]["aws_subnet"].values()
    by_name = {s["tags"]["Name"]: s["availability_zone"] for s in subnets}
    for i in range(3):
        expected = f"${{element(local.{local_name}, {i})}}"
        assert by_name[f"svc-public-{i}"] == by_name[f"svc-private-{i}"] == expected


def test_too_few_qualifying_zones_fail_the_plan_naming_the_types_endpoints_and_fix(with_endpoints):
    # GIVEN the 3-AZ VPC above
    [(local_name, _)] = with_endpoints["locals"].items()
    [vpc] = with_endpoints["resource"]["aws_vpc"].values()
    # WHEN its precondition is read
    [check] = vpc["lifecycle"]["precondition"]
    # THEN fewer than 3 qualifying zones stop the plan before anything is created, with the types and the fix
    assert check["condition"] == f"${{(length(local.{local_name}) >= 3)}}"
    message = check["error_message"]
    assert message.startswith("network.az_count: fewer than 3 available AZs offer g5.2xlarge, g6.2xlarge")
    assert "endpoints ecr.api, ecr.dkr" in message and "Fix: lower network.az_count" in message


def test_without_instance_types_or_interface_endpoints_the_zones_are_the_available_ones():
    tf = synth_network(NetworkSpec(), instance_types=())
    [zones] = tf["locals"].values()
    assert re.fullmatch(r"\$\{data\.aws_availability_zones\.\w+\.names\}", zones)
    assert "aws_ec2_instance_type_offerings" not in tf["data"]


def test_a_vpc_you_bring_reads_no_zones():
    tf = synth_network(NetworkSpec(vpc_id="vpc-0a1b2c3d", private_subnet_ids=("subnet-aaaaaaaa", "subnet-bbbbbbbb")))
    assert "data" not in tf and "locals" not in tf


def test_per_az_nat_gives_each_private_route_table_the_nat_gateway_in_its_own_az():
    # GIVEN a 3-AZ VPC with a NAT gateway per AZ
    tf = synth_network(NetworkSpec(az_count=3, nat_gateways="per_az"))
    res = tf["resource"]
    key = {s["tags"]["Name"]: k for k, s in res["aws_subnet"].items()}
    nat_key = {n["tags"]["Name"]: k for k, n in res["aws_nat_gateway"].items()}
    rt_key = {t["tags"]["Name"]: k for k, t in res["aws_route_table"].items()}
    # WHEN the NAT gateways and the private default routes are read
    default_routes = {r["route_table_id"]: r for r in res["aws_route"].values() if "nat_gateway_id" in r}
    # THEN NAT i sits in public subnet i, and private route table i sends 0.0.0.0/0 to NAT i (same AZ)
    assert len(res["aws_nat_gateway"]) == 3 and len(res["aws_eip"]) == 3
    for i in range(3):
        nat = res["aws_nat_gateway"][nat_key[f"svc-nat-{i}"]]
        assert nat["subnet_id"] == f"${{aws_subnet.{key[f'svc-public-{i}']}.id}}"
        route = default_routes[f"${{aws_route_table.{rt_key[f'svc-private-{i}']}.id}}"]
        assert route["destination_cidr_block"] == "0.0.0.0/0"
        assert route["nat_gateway_id"] == f"${{aws_nat_gateway.{nat_key[f'svc-nat-{i}']}.id}}"


def test_the_cost_estimate_prices_one_nat_gateway_and_its_address_per_az():
    # GIVEN the same VPC with one shared NAT and with one NAT per AZ
    single, per_az = (
        estimate_stack(synth_network(NetworkSpec(az_count=3, nat_gateways=nat))) for nat in ("single", "per_az")
    )
    # WHEN their NAT lines are compared
    [one] = [line for line in single.lines if line.component == "NAT gateways"]
    [three] = [line for line in per_az.lines if line.component == "NAT gateways"]
    # THEN per-AZ NAT costs three gateways (and three public IPv4 addresses)
    assert three.min_usd == pytest.approx(3 * one.min_usd) and three.assumption.startswith("3 NAT gateway(s)")
    assert per_az.min_monthly_usd - single.min_monthly_usd >= 2 * one.min_usd


def alb_and_queue(queue_network: NetworkSpec | None = None, *, app: Any = None) -> tuple[GpuStack, Any, Any]:
    """The SDXL ALB service and a job queue given `network=sdxl.network` in one stack."""
    from blueprints.alb_inference import AlbInferenceService
    from blueprints.idle_stop_queue import IdleStopGpuQueue, IdleStopGpuQueueSpec
    from examples import SDXL

    stack = GpuStack(app or Testing.app(), "shared", region="us-east-1")
    sdxl = AlbInferenceService(stack, "sdxl", spec=SDXL.model_copy(update={"network": NetworkSpec()}))
    fields: dict[str, Any] = {"name": "edits", "capacity": {"instance_types": ["g6e.xlarge"]}}
    fields["container"] = {"image": SDXL.container.image}
    if queue_network is not None:
        fields["network"] = queue_network
    queue = IdleStopGpuQueue(stack, "edits", spec=IdleStopGpuQueueSpec(**fields), network=sdxl.network)
    return stack, sdxl, queue


def test_an_alb_service_and_a_queue_sharing_a_network_make_one_vpc_and_one_nat():
    # GIVEN a queue given the ALB service's network
    stack, sdxl, queue = alb_and_queue()
    # WHEN synthesized
    tf = json.loads(Testing.synth(stack))
    # THEN the stack has one VPC and one NAT, and the queue's hosts launch in the ALB service's private subnets
    assert len(tf["resource"]["aws_vpc"]) == 1 and len(tf["resource"]["aws_nat_gateway"]) == 1
    assert queue.network is sdxl.network
    subnets = {json.dumps(asg["vpc_zone_identifier"]) for asg in tf["resource"]["aws_autoscaling_group"].values()}
    assert len(subnets) == 1
    # AND the VPC's AZs must offer the queue's GPU type too (its zones, plan-time check and summary say so)
    [zones] = [v for k, v in tf["locals"].items() if k.startswith("sdxl_network_zones")]
    assert len(refs(zones, "aws_ec2_instance_type_offerings")) == 4  # three SDXL types + g6e.xlarge
    [vpc] = tf["resource"]["aws_vpc"].values()
    assert "g6e.xlarge" in vpc["lifecycle"]["precondition"][0]["error_message"]
    hints = read_hints(stack.to_terraform())  # Testing.synth drops the "//" key the hints live under
    assert "AZs: first 2 (sorted) where g5.2xlarge, g6.2xlarge, g4dn.2xlarge, g6e.xlarge are offered" in (
        hints["sdxl"].summary
    )
    assert hints["edits"].summary[-1] == "network: sdxl's (no VPC or NAT of its own)"


def test_a_blueprint_given_a_shared_network_and_its_own_network_spec_is_refused_by_name():
    # GIVEN a queue given the ALB service's network and a NetworkSpec of its own
    # WHEN it is built THEN the conflicting fields are named, with the fix
    with pytest.raises(NetworkConflictError) as error:
        alb_and_queue(NetworkSpec(cidr_block="10.50.0.0/16", nat_gateways="per_az"))
    message = str(error.value)
    assert "network: given both network= (the network of sdxl) and network.cidr_block, network.nat_gateways" in message
    assert "Fix: drop them from the spec" in message


def test_a_network_of_another_stack_is_refused_with_the_fix():
    # GIVEN the ALB service's network in one stack and a queue in another
    from blueprints.idle_stop_queue import IdleStopGpuQueue, IdleStopGpuQueueSpec
    from examples import SDXL

    app = Testing.app()
    _, sdxl, _ = alb_and_queue(app=app)
    other = GpuStack(app, "other", region="us-east-1")
    spec = IdleStopGpuQueueSpec(
        name="other-jobs", capacity={"instance_types": ["g6.xlarge"]}, container={"image": SDXL.container.image}
    )
    # WHEN the queue is given that network THEN it is refused (Terraform cannot resolve a cross-stack reference)
    with pytest.raises(NetworkConflictError, match=r"is in stack 'shared', not in 'other'\. Fix: "):
        IdleStopGpuQueue(other, "x", spec=spec, network=sdxl.network)


def synth_with_host_endpoints(spec: NetworkSpec) -> tuple[Network, dict[str, Any]]:
    stack = GpuStack(Testing.app(), "net", region="us-east-1")
    network = Network(stack, "network", name="svc", spec=spec, instance_types=TYPES, host_endpoints=("monitoring",))
    return network, json.loads(Testing.synth(stack))


def test_hosts_get_the_monitoring_endpoint_where_the_network_creates_interface_endpoints():
    # GIVEN a created VPC with interface endpoints, for hosts that publish GPU metrics
    network, tf = synth_with_host_endpoints(NetworkSpec(vpc_endpoints=("ecr.api", "s3")))
    # WHEN it is synthesized
    endpoints = {e["service_name"]: e for e in tf["resource"]["aws_vpc_endpoint"].values()}
    services = sorted(s["service_name"] for s in tf["data"]["aws_vpc_endpoint_service"].values())
    # THEN monitoring is an interface endpoint in the private subnets like the others, and picks the AZs too
    monitoring = endpoints["com.amazonaws.us-east-1.monitoring"]
    assert monitoring["vpc_endpoint_type"] == "Interface" and monitoring["private_dns_enabled"] is True
    assert monitoring["subnet_ids"] == endpoints["com.amazonaws.us-east-1.ecr.api"]["subnet_ids"]
    assert services == ["com.amazonaws.us-east-1.ecr.api", "com.amazonaws.us-east-1.monitoring"]
    assert "monitoring" in network.spec.vpc_endpoints and "monitoring" in (network.zones_summary or "")


def test_a_network_without_interface_endpoints_reaches_monitoring_through_its_nat():
    # GIVEN a created VPC with a NAT and only the s3 gateway endpoint
    network, tf = synth_with_host_endpoints(NetworkSpec(vpc_endpoints=("s3",)))
    # WHEN it is synthesized
    services = [e["service_name"] for e in tf["resource"]["aws_vpc_endpoint"].values()]
    # THEN no interface endpoint is added (the hosts reach CloudWatch through the NAT)
    assert services == ["com.amazonaws.us-east-1.s3"] and network.spec.vpc_endpoints == ("s3",)


def test_a_created_network_reads_each_resources_id_from_jsii_once_and_passes_the_token_on():
    # GIVEN a stack for a 3-AZ VPC with NAT per AZ and interface + gateway endpoints
    from tests.jsii_requests import recorded_requests, repeated_reads

    stack = GpuStack(Testing.app(), "net", region="us-east-1")
    spec = NetworkSpec(az_count=3, nat_gateways="per_az", vpc_endpoints=("ecr.api", "s3"))
    # WHEN the network is built, with every jsii kernel request recorded
    with recorded_requests() as requests:
        network = Network(stack, "network", name="svc", spec=spec, instance_types=TYPES)
    # THEN no attribute (the VPC's, a subnet's or route table's id...) was asked of jsii twice: each is one round trip
    assert repeated_reads(requests) == []
    # AND the ids it hands on are those tokens, one per subnet
    assert len(set(network.private_subnet_ids)) == len(set(network.public_subnet_ids)) == 3
