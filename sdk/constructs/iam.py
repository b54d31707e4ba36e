"""IAM: the GPU host's instance role, the task execution role and the least-privilege task role."""

from typing import Any

from sdk.constructs.engine import Construct, IamInstanceProfile, IamRole, IamRolePolicy, IamRolePolicyAttachment
from sdk.constructs.naming import assume_role_policy, iam_name, policy_json
from sdk.constructs.structs import new, terraform_literal
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


def exec_log_statements(log_group_arn: str) -> list[Statement]:
    """With the cluster's execute-command logging DEFAULT, the SSM agent in the container writes session output to
    the task's awslogs group with the *task* role's credentials (AWS ECS developer guide, ecs-exec.html, "IAM
    permissions required for ECS Exec ... logging"). DescribeLogGroups lists groups: AWS's example grants it on "*"."""
    return [
        {"Sid": "EcsExecLogGroups", "Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": "*"},
        {
            "Sid": "EcsExecSessionLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [f"{log_group_arn}:*"],
        },
    ]


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
    role = new(IamRole, scope, id_, name=name, assume_role_policy=assume_role_policy(service, conditions))
    if statements:
        _policy(scope, f"{id_}_policy", role, name, statements)
    return role


def _policy(scope: Construct, id_: str, role: IamRole, name: str, statements: list[Statement]) -> IamRolePolicy:
    return new(IamRolePolicy, scope, id_, role=role.id, name=f"{name}-policy", policy=policy_json(statements))


class InstanceRole(Construct):
    """`.role` and `.instance_profile` for ECS GPU hosts (ECS agent, SSM, optional image pre-pull)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        prepull: list[str],
        region: str,
        launch_hook_asg: str | None,
        extra_statements: list[Statement] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        statements = [*ecr_pull_statements(prepull, region), *(extra_statements or [])]
        if launch_hook_asg is not None:  # warm-pool hosts complete their own launch lifecycle action
            asg_arn = f"arn:aws:autoscaling:{region}:*:autoScalingGroup:*:autoScalingGroupName/{launch_hook_asg}"
            statements.append(
                {
                    "Sid": "CompleteLaunch",
                    "Effect": "Allow",
                    "Action": ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"],
                    "Resource": [asg_arn],
                }
            )
        host = iam_name(name, region, "host")
        self.role = _role(self, "role", host, "ec2.amazonaws.com", statements)
        for index, arn in enumerate(HOST_MANAGED_POLICIES):
            new(IamRolePolicyAttachment, self, f"managed_{index}", role=self.role.name, policy_arn=arn)
        self.instance_profile = new(IamInstanceProfile, self, "profile", name=host, role=self.role.name)


class TaskRoles(Construct):
    """`.execution_role` (pull the image, write its log group, read its secrets) and `.task_role` (grants; a
    resource adds its own with `grant(...)`, as CDK's `queue.grantConsumeMessages(role)` does)."""

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
        self.execution_role = _role(
            self, "execution", iam_name(name, region, "execution"), "ecs-tasks.amazonaws.com", execution, trust
        )
        self._exec = [EXEC_STATEMENT, *exec_log_statements(log_group_arn)] if enable_exec else []
        grants = (*grants, *model_source_grants(container.model_source))
        self._granted = [*grant_statements(grants), *(extra_statements or [])]
        self._task_policy: IamRolePolicy | None = None
        self._task_name = iam_name(name, region, "task")
        self.task_role = _role(self, "task", self._task_name, "ecs-tasks.amazonaws.com", [], trust)
        self._write_task_policy()

    @property
    def task_statements(self) -> list[Statement]:
        return [*self._granted, *self._exec]

    def grant(self, *statements: Statement) -> None:
        """Add statements to the task role's policy (before the ECS Exec ones, which stay last)."""
        self._granted.extend(statements)
        self._write_task_policy()

    def _write_task_policy(self) -> None:
        statements = self.task_statements
        if not statements:
            return
        if self._task_policy is None:
            self._task_policy = _policy(self, "task_policy", self.task_role, self._task_name, statements)
        else:
            self._task_policy.policy = terraform_literal(policy_json(statements))


# The managed policy lives at the policy root, not under service-role/ (AWS Managed Policy Reference,
# AmazonECSInfrastructureRolePolicyForLoadBalancers: "ARN: arn:aws:iam::aws:policy/AmazonECSInfrastructureRole...").
ECS_LOAD_BALANCER_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"


def ecs_load_balancer_role(scope: Construct, id_: str, *, name: str, region: str, account_id: str) -> IamRole:
    """The infrastructure role ECS assumes to move traffic between target groups in a blue/green, canary or linear
    deployment (ECS developer guide, AmazonECSInfrastructureRolePolicyForLoadBalancers.html), for this account only."""
    role = _role(
        scope,
        id_,
        iam_name(name, region, "ecs-lb"),
        "ecs.amazonaws.com",
        [],
        conditions={"StringEquals": {"aws:SourceAccount": account_id}},
    )
    new(IamRolePolicyAttachment, scope, f"{id_}_managed", role=role.name, policy_arn=ECS_LOAD_BALANCER_POLICY)
    return role
