"""IAM: the GPU host's instance role, the task execution role and the least-privilege task role."""

from typing import Any

from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from sdk.constructs.naming import assume_role_policy, policy_json
from sdk.grants import Grant, grant_statements, model_source_grants
from sdk.specs import ContainerSpec, arn_parts, ecr_repository

Statement = dict[str, Any]
HOST_MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
)
ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
# ECS Exec's SSM channel actions support no resource-level scoping (AWS documents Resource "*").
EXEC_STATEMENT: Statement = {
    "Sid": "EcsExec",
    "Effect": "Allow",
    "Action": [
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ],
    "Resource": "*",
}


def ecr_pull_statements(images: list[str], region: str) -> list[Statement]:
    repos = sorted({f"arn:aws:ecr:{r[1]}:{r[0]}:repository/{r[2]}" for image in images if (r := ecr_repository(image))})
    if not repos:
        return []
    # GetAuthorizationToken is account-wide by design: it has no resource-level permissions.
    return [
        {"Sid": "EcrToken", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
        {"Sid": "EcrPull", "Effect": "Allow", "Action": ECR_PULL_ACTIONS, "Resource": repos},
    ]


def _secret_statements(container: ContainerSpec) -> list[Statement]:
    by_service: dict[str, list[str]] = {}
    for secret in container.secrets:
        parts = arn_parts(secret.value_from)
        service = parts[0] if parts else "ssm"
        by_service.setdefault(service, []).append(secret.value_from)
    actions = {"ssm": ["ssm:GetParameters"], "secretsmanager": ["secretsmanager:GetSecretValue"]}
    return [
        {
            "Sid": f"Secrets{service.capitalize()}",
            "Effect": "Allow",
            "Action": actions[service],
            "Resource": sorted(arns),
        }
        for service, arns in sorted(by_service.items())
    ]


def _role(
    scope: Construct,
    id_: str,
    name: str,
    service: str,
    statements: list[Statement],
    conditions: dict[str, Any] | None = None,
) -> IamRole:
    role = IamRole(scope, id_, name=name, assume_role_policy=assume_role_policy(service, conditions))
    if statements:
        IamRolePolicy(scope, f"{id_}_policy", role=role.id, name=f"{name}-policy", policy=policy_json(statements))
    return role


class InstanceRole(Construct):
    """`.role` and `.instance_profile` for ECS GPU hosts (ECS agent, SSM, optional image pre-pull)."""

    def __init__(
        self, scope: Construct, id_: str, *, name: str, prepull: list[str], region: str, launch_hook_asg: str | None
    ) -> None:
        super().__init__(scope, id_)
        statements = ecr_pull_statements(prepull, region)
        if launch_hook_asg is not None:  # warm-pool hosts complete their own launch lifecycle action
            asg_arn = f"arn:aws:autoscaling:{region}:*:autoScalingGroup:*:autoScalingGroupName/{launch_hook_asg}"
            statements.append(
                {
                    "Sid": "CompleteLaunch",
                    "Effect": "Allow",
                    "Action": ["autoscaling:CompleteLifecycleAction"],
                    "Resource": [asg_arn],
                }
            )
        self.role = _role(self, "role", f"{name}-host", "ec2.amazonaws.com", statements)
        for index, arn in enumerate(HOST_MANAGED_POLICIES):
            IamRolePolicyAttachment(self, f"managed_{index}", role=self.role.name, policy_arn=arn)
        self.instance_profile = IamInstanceProfile(self, "profile", name=f"{name}-host", role=self.role.name)


class TaskRoles(Construct):
    """`.execution_role` (pull the image, write its log group, read its secrets) and `.task_role` (grants)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        container: ContainerSpec,
        log_group_arn: str,
        region: str,
        account_id: str,
        grants: tuple[Grant, ...] = (),
        extra_statements: list[Statement] | None = None,
        enable_exec: bool = True,
    ) -> None:
        super().__init__(scope, id_)
        trust = {
            "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{region}:{account_id}:*"},
            "StringEquals": {"aws:SourceAccount": account_id},
        }
        execution = [
            *ecr_pull_statements([container.image], region),
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"{log_group_arn}:*"],
            },
            *_secret_statements(container.with_model_source()),
        ]
        self.execution_role = _role(self, "execution", f"{name}-execution", "ecs-tasks.amazonaws.com", execution, trust)
        grants = (*grants, *model_source_grants(container.model_source))
        task = [*grant_statements(grants), *(extra_statements or []), *([EXEC_STATEMENT] if enable_exec else [])]
        self.task_statements = task
        self.task_role = _role(self, "task", f"{name}-task", "ecs-tasks.amazonaws.com", task, trust)
