"""The one module of ours that imports the engine: cdktf, constructs and the prebuilt AWS provider.

Everything else takes engine names from here, so switching engines (cdktf is archived; docs/engine.md) is a
change of this file. Before the engine loads, the provider's submodules are set to load on first use
(sdk/fast_import.py) and jsii is pointed at the bundled Node (sdk/node.py): any cdktf use goes through here.
Provider classes our code uses are named below (mypy checks them); anything else is `aws.<submodule>.<Class>`.
"""

# ruff: noqa: E402  (the import hook and JSII_NODE must be in place before cdktf and the provider load)

from sdk import fast_import
from sdk.node import configure_jsii_node

fast_import.install()
configure_jsii_node()

import cdktf_cdktf_provider_aws as aws
from cdktf import (
    App,
    Fn,
    ITerraformDependable,
    LocalBackend,
    Op,
    Precondition,
    S3Backend,
    TerraformLocal,
    TerraformOutput,
    TerraformResource,
    TerraformResourceLifecycle,
    TerraformStack,
    TerraformVariable,
    Testing,
    Token,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import AppautoscalingPolicy
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.autoscaling_group import AutoscalingGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm, CloudwatchMetricAlarmMetricQuery
from cdktf_cdktf_provider_aws.data_aws_availability_zones import DataAwsAvailabilityZones
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_ec2_instance_type_offerings import DataAwsEc2InstanceTypeOfferings
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.data_aws_vpc_endpoint_service import DataAwsVpcEndpointService
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.ecs_capacity_provider import EcsCapacityProvider
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import EcsClusterCapacityProviders
from cdktf_cdktf_provider_aws.ecs_service import EcsService
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.launch_template import LaunchTemplate
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import S3BucketLifecycleConfiguration
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from cdktf_cdktf_provider_aws.sqs_queue_redrive_allow_policy import SqsQueueRedriveAllowPolicy
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from constructs import Construct, IConstruct

# The top-level packages this module stands for (tests/sdk/constructs/test_engine.py keeps them out of the rest).
ENGINE_PACKAGES = frozenset({"cdktf", "constructs", "cdktf_cdktf_provider_aws"})

__all__ = [
    "App",
    "AppautoscalingPolicy",
    "AppautoscalingTarget",
    "AutoscalingGroup",
    "AwsProvider",
    "CloudwatchLogGroup",
    "CloudwatchMetricAlarm",
    "CloudwatchMetricAlarmMetricQuery",
    "Construct",
    "DataAwsAvailabilityZones",
    "DataAwsCallerIdentity",
    "DataAwsEc2InstanceTypeOfferings",
    "DataAwsSsmParameter",
    "DataAwsVpcEndpointService",
    "DefaultSecurityGroup",
    "DynamodbTable",
    "EcsCapacityProvider",
    "EcsCluster",
    "EcsClusterCapacityProviders",
    "EcsService",
    "EcsTaskDefinition",
    "Eip",
    "FlowLog",
    "Fn",
    "IConstruct",
    "ITerraformDependable",
    "IamInstanceProfile",
    "IamPolicy",
    "IamRole",
    "IamRolePolicy",
    "IamRolePolicyAttachment",
    "InternetGateway",
    "KmsAlias",
    "KmsKey",
    "LaunchTemplate",
    "Lb",
    "LbListener",
    "LbTargetGroup",
    "LocalBackend",
    "NatGateway",
    "Op",
    "Precondition",
    "Route",
    "RouteTable",
    "RouteTableAssociation",
    "S3Backend",
    "S3Bucket",
    "S3BucketLifecycleConfiguration",
    "S3BucketOwnershipControls",
    "S3BucketPolicy",
    "S3BucketPublicAccessBlock",
    "S3BucketServerSideEncryptionConfigurationA",
    "S3BucketVersioningA",
    "SecurityGroup",
    "SnsTopic",
    "SnsTopicPolicy",
    "SqsQueue",
    "SqsQueuePolicy",
    "SqsQueueRedriveAllowPolicy",
    "Subnet",
    "TerraformLocal",
    "TerraformOutput",
    "TerraformResource",
    "TerraformResourceLifecycle",
    "TerraformStack",
    "TerraformVariable",
    "Testing",
    "Token",
    "Vpc",
    "VpcEndpoint",
    "VpcSecurityGroupEgressRule",
    "VpcSecurityGroupIngressRule",
    "Wafv2WebAclAssociation",
    "aws",
]
