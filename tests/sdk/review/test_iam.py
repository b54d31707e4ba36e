"""IAM summary: per role, the actions and resources its policies allow; wildcards flagged."""

import json

from sdk.review.iam import role_access
from sdk.tfjson import resources


def test_every_role_of_the_example_is_summarized_with_its_policies_actions(public_stack):
    # GIVEN the public example's roles and inline policies
    roles = {r.role: r for r in role_access(public_stack)}
    # WHEN each aws_iam_role_policy's statements are read straight from the JSON
    for name, policy in resources(public_stack, "aws_iam_role_policy").items():
        document = json.loads(policy["policy"])
        expected = {
            a
            for st in document["Statement"]
            for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
        }
        owner = policy["role"].split(".")[1]
        # THEN the owning role's summary lists exactly those actions from that policy
        grants = [g for g in roles[f"aws_iam_role.{owner}"].grants if g.policy == f"aws_iam_role_policy.{name}"]
        assert {a for g in grants for a in g.actions} == expected
    assert set(roles) == {f"aws_iam_role.{n}" for n in resources(public_stack, "aws_iam_role")}


def test_the_examples_have_no_wildcards_beyond_star_only_actions(public_stack, internal_stack):
    # GIVEN both examples (their execution roles need ecr:GetAuthorizationToken on "*")
    for stack in (public_stack, internal_stack):
        # WHEN wildcards are collected
        wildcards = {key for role in role_access(stack) for key in role.wildcard_keys()}
        # THEN there are none: "*" for actions that accept only "*" is not a wildcard to flag
        assert wildcards == set()


def test_action_and_resource_wildcards_are_flagged():
    # GIVEN a role with s3:* on a bucket and a Describe on every resource
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
        ],
    }
    stack = {
        "resource": {
            "aws_iam_role": {
                "r": {
                    "assume_role_policy": json.dumps(
                        {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                    "Action": "sts:AssumeRole",
                                }
                            ]
                        }
                    )
                }
            },
            "aws_iam_role_policy": {"p": {"role": "${aws_iam_role.r.name}", "policy": json.dumps(policy)}},
        }
    }
    # WHEN summarized
    (role,) = role_access(stack)
    # THEN the action wildcard and the resource star are flagged, the Deny is not, and the principal is named
    assert role.wildcard_keys() == {"aws_iam_role.r|s3:*", "aws_iam_role.r|*"}
    assert role.trusted == ("Service:ecs-tasks.amazonaws.com",)


def test_policy_documents_and_managed_attachments_are_resolved():
    # GIVEN a role whose policy is a data.aws_iam_policy_document and that has an AWS-managed attachment
    stack = {
        "data": {
            "aws_iam_policy_document": {
                "doc": {"statement": [{"actions": ["sqs:ReceiveMessage"], "resources": ["${aws_sqs_queue.q.arn}"]}]}
            }
        },
        "resource": {
            "aws_iam_role": {"r": {"assume_role_policy": "{}"}},
            "aws_iam_role_policy": {
                "p": {"role": "${aws_iam_role.r.id}", "policy": "${data.aws_iam_policy_document.doc.json}"}
            },
            "aws_iam_role_policy_attachment": {
                "m": {"role": "${aws_iam_role.r.name}", "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
            },
        },
    }
    # WHEN summarized
    (role,) = role_access(stack)
    # THEN the document's statement and the managed ARN are listed
    assert [(g.policy, g.actions) for g in role.grants] == [
        ("data.aws_iam_policy_document.doc", ("sqs:ReceiveMessage",))
    ]
    assert role.managed_policies == ("arn:aws:iam::aws:policy/ReadOnlyAccess",)
