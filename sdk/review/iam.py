"""Per IAM role: who can assume it and the actions/resources its policies allow, wildcards flagged."""

import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sdk.tfjson import referenced, resources

# Actions AWS documents as not supporting resource-level permissions: "*" is the only valid resource.
STAR_ONLY_ACTIONS = frozenset(
    {
        "ecr:GetAuthorizationToken",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        "cloudwatch:PutMetricData",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "logs:DescribeLogGroups",  # lists groups; the ECS Exec and flow-log role docs grant it on "*"
        "ec2:DescribeTags",  # EC2 Describe* actions have no resource-level permissions (the CloudWatch agent's)
    }
)


class Grant(BaseModel):
    """One statement of a role's policy, as the review lists it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: str = Field(description="Address of the policy it comes from (no default)")
    effect: str = Field(default="Allow", description="Allow or Deny (default Allow)")
    actions: tuple[str, ...] = Field(description="Actions (or NotActions, prefixed 'not ') (no default)")
    resources: tuple[str, ...] = Field(default=(), description="Resources (default none listed)")
    conditions: str = Field(default="", description="Condition block as compact JSON (default none)")

    @property
    def wildcards(self) -> tuple[str, ...]:
        """Actions with '*', and a bare '*' resource unless every action only accepts '*' (Allow only)."""
        if self.effect != "Allow":
            return ()
        star_needed = set(self.actions) <= STAR_ONLY_ACTIONS
        return (*(a for a in self.actions if "*" in a), *(r for r in self.resources if r == "*" and not star_needed))


class RoleAccess(BaseModel):
    """An IAM role: who can assume it and what its policies grant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str = Field(description="Terraform address of the role (no default)")
    trusted: tuple[str, ...] = Field(default=(), description="Principals that can assume it (default none)")
    grants: tuple[Grant, ...] = Field(default=(), description="Statements of its policies (default none)")
    managed_policies: tuple[str, ...] = Field(
        default=(), description="AWS-managed policy ARNs attached; their actions are AWS's (default none)"
    )
    unparsed: tuple[str, ...] = Field(default=(), description="Policies whose text could not be read (default none)")

    def wildcard_keys(self) -> set[str]:
        return {f"{self.role}|{w}" for grant in self.grants for w in grant.wildcards}


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)] if value is not None else []


def _statements(document: Any, policy: str) -> Iterator[Grant]:
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for st in statements if isinstance(statements, list) else [statements]:
        actions = _as_list(st.get("Action")) + [f"not {a}" for a in _as_list(st.get("NotAction"))]
        yield Grant(
            policy=policy,
            effect=st.get("Effect", "Allow"),
            actions=tuple(actions),
            resources=tuple(_as_list(st.get("Resource")) + [f"not {r}" for r in _as_list(st.get("NotResource"))]),
            conditions=json.dumps(st["Condition"], sort_keys=True) if "Condition" in st else "",
        )


def _document_statements(tf_json: dict[str, Any], name: str) -> Iterator[Grant]:
    document = tf_json.get("data", {}).get("aws_iam_policy_document", {}).get(name, {})
    for st in document.get("statement", []):
        yield Grant(
            policy=f"data.aws_iam_policy_document.{name}",
            effect=st.get("effect", "Allow"),
            actions=tuple(_as_list(st.get("actions"))),
            resources=tuple(_as_list(st.get("resources"))),
            conditions=json.dumps(st["condition"], sort_keys=True) if "condition" in st else "",
        )


def _policy_grants(tf_json: dict[str, Any], text: Any, policy: str) -> tuple[list[Grant], list[str]]:
    """Grants of a policy attribute: a JSON string, or a reference to an aws_iam_policy_document."""
    documents = referenced(text, "data.aws_iam_policy_document") if isinstance(text, str) else set()
    if documents:
        return [g for name in sorted(documents) for g in _document_statements(tf_json, name)], []
    try:
        return list(_statements(json.loads(text) if isinstance(text, str) else text, policy)), []
    except ValueError:
        return [], [policy]


def _trusted(role: dict[str, Any]) -> tuple[str, ...]:
    try:
        document = json.loads(role.get("assume_role_policy", "{}"))
    except (TypeError, ValueError):
        return ("(unreadable trust policy)",)
    principals = [
        p
        for st in document.get("Statement", [])
        for kind, value in st.get("Principal", {}).items()
        for p in (f"{kind}:{v}" for v in _as_list(value))
    ]
    return tuple(sorted(set(principals)))


def _attached(tf_json: dict[str, Any], role_name: str) -> Iterator[tuple[str, Any]]:
    """(policy address, policy text) of inline, separate inline and attached customer policies of a role."""
    role = resources(tf_json, "aws_iam_role")[role_name]
    for inline in role.get("inline_policy", []):
        yield f"aws_iam_role.{role_name} inline {inline.get('name')}", inline.get("policy")
    for name, policy in resources(tf_json, "aws_iam_role_policy").items():
        if role_name in referenced(policy.get("role"), "aws_iam_role"):
            yield f"aws_iam_role_policy.{name}", policy.get("policy")
    customer = resources(tf_json, "aws_iam_policy")
    for attachment in resources(tf_json, "aws_iam_role_policy_attachment").values():
        if role_name in referenced(attachment.get("role"), "aws_iam_role"):
            for name in referenced(attachment.get("policy_arn"), "aws_iam_policy"):
                yield f"aws_iam_policy.{name}", customer.get(name, {}).get("policy")


def _managed(tf_json: dict[str, Any], role_name: str) -> tuple[str, ...]:
    role = resources(tf_json, "aws_iam_role")[role_name]
    arns = _as_list(role.get("managed_policy_arns"))
    arns += [
        str(a.get("policy_arn"))
        for a in resources(tf_json, "aws_iam_role_policy_attachment").values()
        if role_name in referenced(a.get("role"), "aws_iam_role")
        and not referenced(a.get("policy_arn"), "aws_iam_policy")
    ]
    return tuple(sorted(arns))


def role_access(tf_json: dict[str, Any]) -> tuple[RoleAccess, ...]:
    """What every role of the stack can touch."""
    out = []
    for name, role in sorted(resources(tf_json, "aws_iam_role").items()):
        grants, unparsed = [], []
        for policy, text in _attached(tf_json, name):
            parsed, failed = _policy_grants(tf_json, text, policy)
            grants += parsed
            unparsed += failed
        out.append(
            RoleAccess(
                role=f"aws_iam_role.{name}",
                trusted=_trusted(role),
                grants=tuple(grants),
                managed_policies=_managed(tf_json, name),
                unparsed=tuple(unparsed),
            )
        )
    return tuple(out)
