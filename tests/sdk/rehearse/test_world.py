"""The world a stack expects: stand-ins made in the emulator for what the stack names but does not create."""

import pytest

from sdk.rehearse.emulator import Emulator
from sdk.rehearse.world import build_world, references

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f5c8a3e-1111-4d2b-9a9e-5d1e2c3b4a55"
STACK = {
    "resource": {
        "aws_lb_listener": {"https": {"certificate_arn": CERT, "port": 443}},
        "aws_security_group": {"sg": {"vpc_id": "vpc-0abc1234def567890"}},
        "aws_autoscaling_group": {
            "asg": {"vpc_zone_identifier": ["subnet-0aaa1111bbb22222c", "subnet-0ddd3333eee44444f"]}
        },
        "aws_sns_topic": {"own": {"name": "own-alarms"}},
        "aws_cloudwatch_metric_alarm": {
            "a": {"alarm_actions": ["arn:aws:sns:us-east-1:123456789012:ops-pager", "${aws_sns_topic.own.arn}"]}
        },
    }
}


def test_references_find_what_a_stack_names_outside_itself_in_order():
    found = references(STACK)
    assert found["certificate"] == [CERT]
    assert found["vpc"] == ["vpc-0abc1234def567890"]
    assert found["subnet"] == ["subnet-0aaa1111bbb22222c", "subnet-0ddd3333eee44444f"]
    assert found["topic"] == ["arn:aws:sns:us-east-1:123456789012:ops-pager"]


@pytest.fixture(scope="module")
def world():
    with Emulator() as emulator:
        client = emulator.client_factory("us-east-1")
        yield build_world(STACK, "us-east-1", client), client


def test_the_world_imports_a_certificate_and_creates_the_vpc_subnets_and_topic(world):
    made, client = world
    new_cert = made.substitutions[CERT]
    assert client("acm").describe_certificate(CertificateArn=new_cert)["Certificate"]["Type"] == "IMPORTED"
    subnets = client("ec2").describe_subnets(SubnetIds=[made.substitutions[s] for s in references(STACK)["subnet"]])[
        "Subnets"
    ]
    assert {s["VpcId"] for s in subnets} == {made.substitutions["vpc-0abc1234def567890"]}
    assert len({s["AvailabilityZone"] for s in subnets}) == 2
    topics = [t["TopicArn"] for t in client("sns").list_topics()["Topics"]]
    assert topics == ["arn:aws:sns:us-east-1:123456789012:ops-pager"]
    assert len(made.notes) == 3


def test_the_override_rewrites_only_the_arguments_that_name_the_world(world):
    made, _ = world
    override = made.override(STACK)["resource"]
    assert set(override) == {"aws_lb_listener", "aws_security_group", "aws_autoscaling_group"}
    assert override["aws_lb_listener"]["https"] == {"certificate_arn": made.substitutions[CERT]}
    assert override["aws_autoscaling_group"]["asg"]["vpc_zone_identifier"][0].startswith("subnet-")
    assert override["aws_autoscaling_group"]["asg"]["vpc_zone_identifier"][0] != "subnet-0aaa1111bbb22222c"
