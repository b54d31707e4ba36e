"""Network: AZs chosen from what the GPU types and interface endpoints offer; NAT per AZ or shared."""

import json
import re
from typing import Any

import cdktf
import pytest

from sdk.constructs.network import Network
from sdk.constructs.stack import GpuStack
from sdk.cost import estimate_stack
from sdk.specs import NetworkSpec

TYPES = ("g5.2xlarge", "g6.2xlarge")


def synth_network(spec: NetworkSpec, instance_types: tuple[str, ...] = TYPES) -> dict[str, Any]:
    stack = GpuStack(cdktf.Testing.app(), "net", region="us-east-1")
    Network(stack, "network", name="svc", spec=spec, instance_types=instance_types)
    return json.loads(cdktf.Testing.synth(stack))


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
