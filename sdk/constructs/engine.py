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
from constructs import Construct, IConstruct

# The provider classes our code uses (mypy sees each as its class); anything else: aws.<submodule>.<Class>.
Apigatewayv2Api = aws.apigatewayv2_api.Apigatewayv2Api
Apigatewayv2ApiMapping = aws.apigatewayv2_api_mapping.Apigatewayv2ApiMapping
Apigatewayv2Authorizer = aws.apigatewayv2_authorizer.Apigatewayv2Authorizer
Apigatewayv2DomainName = aws.apigatewayv2_domain_name.Apigatewayv2DomainName
Apigatewayv2Integration = aws.apigatewayv2_integration.Apigatewayv2Integration
Apigatewayv2Route = aws.apigatewayv2_route.Apigatewayv2Route
Apigatewayv2Stage = aws.apigatewayv2_stage.Apigatewayv2Stage
AppautoscalingPolicy = aws.appautoscaling_policy.AppautoscalingPolicy
AppautoscalingTarget = aws.appautoscaling_target.AppautoscalingTarget
AutoscalingGroup = aws.autoscaling_group.AutoscalingGroup
AwsProvider = aws.provider.AwsProvider
CloudwatchDashboard = aws.cloudwatch_dashboard.CloudwatchDashboard
CloudwatchLogGroup = aws.cloudwatch_log_group.CloudwatchLogGroup
CloudwatchMetricAlarm = aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm
CloudwatchMetricAlarmMetricQuery = aws.cloudwatch_metric_alarm.CloudwatchMetricAlarmMetricQuery
DataAwsAvailabilityZones = aws.data_aws_availability_zones.DataAwsAvailabilityZones
DataAwsCallerIdentity = aws.data_aws_caller_identity.DataAwsCallerIdentity
DataAwsEc2InstanceTypeOfferings = aws.data_aws_ec2_instance_type_offerings.DataAwsEc2InstanceTypeOfferings
DataAwsSsmParameter = aws.data_aws_ssm_parameter.DataAwsSsmParameter
DataAwsVpcEndpointService = aws.data_aws_vpc_endpoint_service.DataAwsVpcEndpointService
DefaultSecurityGroup = aws.default_security_group.DefaultSecurityGroup
DynamodbTable = aws.dynamodb_table.DynamodbTable
EcsCapacityProvider = aws.ecs_capacity_provider.EcsCapacityProvider
EcsCluster = aws.ecs_cluster.EcsCluster
EcsClusterCapacityProviders = aws.ecs_cluster_capacity_providers.EcsClusterCapacityProviders
EcsService = aws.ecs_service.EcsService
EcsTaskDefinition = aws.ecs_task_definition.EcsTaskDefinition
Eip = aws.eip.Eip
FlowLog = aws.flow_log.FlowLog
IamInstanceProfile = aws.iam_instance_profile.IamInstanceProfile
IamPolicy = aws.iam_policy.IamPolicy
IamRole = aws.iam_role.IamRole
IamRolePolicy = aws.iam_role_policy.IamRolePolicy
IamRolePolicyAttachment = aws.iam_role_policy_attachment.IamRolePolicyAttachment
InternetGateway = aws.internet_gateway.InternetGateway
KmsAlias = aws.kms_alias.KmsAlias
KmsKey = aws.kms_key.KmsKey
LambdaFunction = aws.lambda_function.LambdaFunction
LambdaPermission = aws.lambda_permission.LambdaPermission
LaunchTemplate = aws.launch_template.LaunchTemplate
Lb = aws.lb.Lb
LbListener = aws.lb_listener.LbListener
LbListenerRule = aws.lb_listener_rule.LbListenerRule
LbTargetGroup = aws.lb_target_group.LbTargetGroup
NatGateway = aws.nat_gateway.NatGateway
Route = aws.route.Route
RouteTable = aws.route_table.RouteTable
RouteTableAssociation = aws.route_table_association.RouteTableAssociation
S3Bucket = aws.s3_bucket.S3Bucket
S3BucketLifecycleConfiguration = aws.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfiguration
S3BucketOwnershipControls = aws.s3_bucket_ownership_controls.S3BucketOwnershipControls
S3BucketPolicy = aws.s3_bucket_policy.S3BucketPolicy
S3BucketPublicAccessBlock = aws.s3_bucket_public_access_block.S3BucketPublicAccessBlock
S3BucketServerSideEncryptionConfigurationA = (
    aws.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationA
)
S3BucketVersioningA = aws.s3_bucket_versioning.S3BucketVersioningA
SecurityGroup = aws.security_group.SecurityGroup
SnsTopic = aws.sns_topic.SnsTopic
SnsTopicPolicy = aws.sns_topic_policy.SnsTopicPolicy
SqsQueue = aws.sqs_queue.SqsQueue
SqsQueuePolicy = aws.sqs_queue_policy.SqsQueuePolicy
SqsQueueRedriveAllowPolicy = aws.sqs_queue_redrive_allow_policy.SqsQueueRedriveAllowPolicy
Subnet = aws.subnet.Subnet
Vpc = aws.vpc.Vpc
VpcEndpoint = aws.vpc_endpoint.VpcEndpoint
VpcSecurityGroupEgressRule = aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule
VpcSecurityGroupIngressRule = aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule
Wafv2WebAclAssociation = aws.wafv2_web_acl_association.Wafv2WebAclAssociation

# The top-level packages this module stands for (tests/sdk/constructs/test_engine.py keeps them out of the rest).
ENGINE_PACKAGES = frozenset({"cdktf", "constructs", "cdktf_cdktf_provider_aws"})

__all__ = [
    "Apigatewayv2Api",
    "Apigatewayv2ApiMapping",
    "Apigatewayv2Authorizer",
    "Apigatewayv2DomainName",
    "Apigatewayv2Integration",
    "Apigatewayv2Route",
    "Apigatewayv2Stage",
    "App",
    "AppautoscalingPolicy",
    "AppautoscalingTarget",
    "AutoscalingGroup",
    "AwsProvider",
    "CloudwatchDashboard",
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
    "LambdaFunction",
    "LambdaPermission",
    "LaunchTemplate",
    "Lb",
    "LbListener",
    "LbListenerRule",
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
