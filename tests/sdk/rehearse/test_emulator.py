"""The rehearsal's local AWS: moto in server mode on 127.0.0.1 with each named gap answered as AWS documents it."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sdk.rehearse.emulator import GAPS, HOST, Emulator

REGION = "us-east-1"


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def client(aws):
    return aws.client_factory(REGION)


def group(autoscaling: Any, name: str, **settings: Any) -> dict[str, Any]:
    """A one-instance-at-most Auto Scaling group in us-east-1a from its own launch configuration, as described."""
    autoscaling.create_launch_configuration(
        LaunchConfigurationName=f"{name}-lc", ImageId="ami-12c6146b", InstanceType="t3.micro"
    )
    config = {"MinSize": 0, "MaxSize": 1, "AvailabilityZones": ["us-east-1a"], **settings}
    autoscaling.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName=f"{name}-lc", **config)
    return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]


def test_the_emulator_listens_on_loopback_only(aws):
    assert aws.url.startswith(f"http://{HOST}:") and HOST == "127.0.0.1"


def test_every_gap_names_its_service_api_and_reason():
    assert {gap.service for gap in GAPS} >= {"sqs", "ecs", "autoscaling", "ec2", "application-autoscaling"}
    assert all(gap.api and len(gap.reason) > 20 for gap in GAPS)


def test_sqs_returns_the_redrive_allow_policy_keeps_the_policy_and_writes_compact_redrive_json(client):
    # GIVEN a queue with a policy and a DLQ with a redrive-allow policy, set in separate calls as Terraform does
    sqs = client("sqs")
    dlq = sqs.create_queue(QueueName="gaps-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="gaps-q")["QueueUrl"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sqs:*"}]}
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"Policy": json.dumps(policy)})
    allow = json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": ["arn:aws:sqs:us-east-1:1:x"]})
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": allow})
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"RedrivePolicy": json.dumps(redrive)})
    # WHEN their attributes are read back
    dlq_attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    queue_attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    # THEN both policies are there, and the redrive policy is compact JSON as SQS writes it
    assert json.loads(dlq_attributes["RedriveAllowPolicy"])["redrivePermission"] == "byQueue"
    assert json.loads(dlq_attributes["Policy"])["Statement"][0]["Effect"] == "Deny"
    assert queue_attributes["RedrivePolicy"] == json.dumps(redrive, separators=(",", ":"))
    # AND a redrive-allow policy set to "" is gone, as SQS reports an unset attribute
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": ""})
    assert "RedriveAllowPolicy" not in sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]


def test_application_autoscaling_lists_and_changes_the_tags_of_a_scalable_target(client):
    ecs, scaling = client("ecs"), client("application-autoscaling")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="tags", containerDefinitions=[{"name": "a", "image": "x", "memory": 64}])
    ecs.create_service(cluster="c", serviceName="s", taskDefinition="tags", desiredCount=0)
    arn = scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/c/s",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=0,
        MaxCapacity=2,
        Tags={"team": "a"},
    )["ScalableTargetARN"]
    scaling.tag_resource(ResourceARN=arn, Tags={"stack": "s"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"stack": "s"}


def test_an_ecs_service_reports_the_settings_it_was_created_and_updated_with(client):
    # GIVEN a service on a capacity provider, with Exec, placement and managed tags
    ecs = client("ecs")
    ecs.create_cluster(clusterName="gaps")
    ecs.register_task_definition(family="t", containerDefinitions=[{"name": "a", "image": "x", "memory": 64}])
    strategy = [{"capacityProvider": "gaps-cp", "weight": 1, "base": 0}]
    ecs.create_service(
        cluster="gaps",
        serviceName="s",
        taskDefinition="t",
        desiredCount=0,
        capacityProviderStrategy=strategy,
        enableExecuteCommand=True,
        enableECSManagedTags=True,
        placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"}],
    )
    ecs.update_service(cluster="gaps", service="s", healthCheckGracePeriodSeconds=60)
    # WHEN it is described THEN those settings come back
    (service,) = ecs.describe_services(cluster="gaps", services=["s"])["services"]
    assert service["capacityProviderStrategy"] == strategy
    assert service["enableExecuteCommand"] is True and service["enableECSManagedTags"] is True
    assert service["placementStrategy"][0]["type"] == "spread"
    assert service["healthCheckGracePeriodSeconds"] == 60


def test_ecs_lists_every_capacity_provider_when_none_is_named(client):
    ecs, autoscaling = client("ecs"), client("autoscaling")
    arn = group(autoscaling, "g")
    ecs.create_capacity_provider(
        name="listed", autoScalingGroupProvider={"autoScalingGroupArn": arn["AutoScalingGroupARN"]}
    )
    assert "listed" in {p["name"] for p in ecs.describe_capacity_providers()["capacityProviders"]}


def test_an_auto_scaling_group_reports_its_default_instance_warmup(client):
    autoscaling = client("autoscaling")
    warm = group(autoscaling, "warm", DefaultInstanceWarmup=300)
    assert warm["DefaultInstanceWarmup"] == 300


def test_a_launch_template_keeps_its_own_tags_out_of_the_version_data(client):
    ec2 = client("ec2")
    ec2.create_launch_template(
        LaunchTemplateName="gaps-lt",
        LaunchTemplateData={
            "InstanceType": "g5.xlarge",
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "host"}]}],
        },
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "stack", "Value": "s"}]}],
    )
    (version,) = ec2.describe_launch_template_versions(LaunchTemplateName="gaps-lt")["LaunchTemplateVersions"]
    kinds = [spec["ResourceType"] for spec in version["LaunchTemplateData"]["TagSpecifications"]]
    assert kinds == ["instance"]


def test_a_bridge_mode_service_reports_no_network_configuration(client):
    # GIVEN a service created without networkConfiguration (bridge mode), which ECS describes without one
    ecs = client("ecs")
    ecs.create_cluster(clusterName="bridge")
    ecs.register_task_definition(family="b", containerDefinitions=[{"name": "a", "image": "x", "memory": 64}])
    ecs.create_service(cluster="bridge", serviceName="s", taskDefinition="b", desiredCount=0)
    # WHEN described THEN there is no empty networkConfiguration (provider 5.100.0 crashes on one)
    (service,) = ecs.describe_services(cluster="bridge", services=["s"])["services"]
    assert "networkConfiguration" not in service


def test_a_rule_to_another_security_group_keeps_its_description(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    alb = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    tasks = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
    pair = {"GroupId": alb, "Description": "from the ALB"}
    permission = {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000, "UserIdGroupPairs": [pair]}
    ec2.authorize_security_group_ingress(GroupId=tasks, IpPermissions=[permission])
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [tasks]}])["SecurityGroupRules"]
    assert [r.get("Description") for r in rules if not r["IsEgress"]] == ["from the ALB"]


def test_a_force_deleted_group_terminates_its_scale_in_protected_instances(client):
    # GIVEN a group holding one scale-in-protected instance (ECS managed termination protection)
    autoscaling, ec2 = client("autoscaling"), client("ec2")
    protected = group(autoscaling, "protected", MinSize=1, NewInstancesProtectedFromScaleIn=True)
    (instance,) = [i["InstanceId"] for i in protected["Instances"]]
    # WHEN the group is force-deleted THEN its instance is terminated with it
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="protected", ForceDelete=True)
    (reservation,) = ec2.describe_instances(InstanceIds=[instance])["Reservations"]
    assert reservation["Instances"][0]["State"]["Name"] == "terminated"
