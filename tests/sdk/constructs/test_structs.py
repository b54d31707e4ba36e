"""`new()`, the one funnel to jsii resources: user strings escaped for Terraform, dicts in lists made structs."""

import ast
import json
from pathlib import Path

import pytest

import sdk.constructs
from sdk.constructs.engine import AutoscalingGroup, CloudwatchLogGroup, TerraformStack, Testing, aws
from sdk.constructs.structs import convert, new, terraform_literal


def test_dicts_in_lists_become_struct_instances_and_plain_maps_stay_maps():
    config = convert(
        AutoscalingGroup, {"tag": [{"key": "k", "value": "v", "propagate_at_launch": True}], "max_size": 2}
    )
    assert isinstance(config["tag"][0], aws.autoscaling_group.AutoscalingGroupTag)
    assert config["max_size"] == 2


def test_a_resource_built_with_new_synthesizes_nested_lists():
    stack = TerraformStack(Testing.app(), "s")
    new(
        AutoscalingGroup,
        stack,
        "asg",
        max_size=1,
        min_size=0,
        mixed_instances_policy={
            "launch_template": {
                "launch_template_specification": {"launch_template_id": "lt-1"},
                "override": [{"instance_type": "g5.xlarge"}, {"instance_type": "g6.xlarge"}],
            }
        },
    )
    synthesized = Testing.synth(stack)
    assert '"instance_type": "g6.xlarge"' in synthesized


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('${file("/etc/hostname")}', '$${file("/etc/hostname")}'),
        ("%{ if true }x%{ endif }", "%%{ if true }x%%{ endif }"),
        ("already $${escaped}", "already $$${escaped}"),
        ("ref ${TfToken[TOKEN.12]} and ${HOME}", "ref ${TfToken[TOKEN.12]} and $${HOME}"),
        ("plain $HOME {x}", "plain $HOME {x}"),
    ],
)
def test_every_template_sequence_but_a_cdktf_token_is_escaped(value, expected):
    assert terraform_literal(value) == expected


def test_strings_are_escaped_inside_lists_tuples_and_dict_keys_and_values():
    config = {"tags": {"${k}": "%{v}"}, "list": [("${a}", 1, None)], "n": 3}
    assert terraform_literal(config) == {"tags": {"$${k}": "%%{v}"}, "list": [("$${a}", 1, None)], "n": 3}


def test_a_resource_built_with_new_reaches_terraform_with_user_templates_literal_and_references_resolved():
    # GIVEN a resource whose tag and policy hold Terraform template syntax beside a real reference
    stack = TerraformStack(Testing.app(), "s")
    group = new(CloudwatchLogGroup, stack, "group", name="g")
    new(
        aws.ssm_parameter.SsmParameter,
        stack,
        "p",
        name="p",
        type="String",
        value=f'{{"Resource": "arn:aws:s3:::b/${{aws:username}}", "group": "{group.name}"}}',
        tags={"hostile": '${file("/etc/hostname")}', "if": "%{ if true }"},
    )
    # WHEN synthesized
    (parameter,) = json.loads(Testing.synth(stack))["resource"]["aws_ssm_parameter"].values()
    # THEN Terraform gets the escapes (it reads them back as the user's text) and the reference as a reference
    assert parameter["tags"] == {"hostile": '$${file("/etc/hostname")}', "if": "%%{ if true }"}
    assert "$${aws:username}" in parameter["value"]
    assert '"group": "${aws_cloudwatch_log_group.group.name}"' in parameter["value"]


CONSTRUCT_MODULES = [
    *Path(sdk.constructs.__file__).parent.glob("*.py"),
    *Path(__file__).resolve().parents[3].joinpath("blueprints").glob("*.py"),
    *Path(__file__).resolve().parents[3].joinpath("examples").glob("*.py"),
]


@pytest.mark.parametrize("module", CONSTRUCT_MODULES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_construct_module_instantiates_a_provider_class_except_through_new(module):
    # GIVEN a construct or blueprint module
    tree = ast.parse(module.read_text(encoding="utf-8"))
    provider_names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cdktf_cdktf_provider_aws")
        for alias in node.names
    }
    # WHEN its calls are read
    direct = [
        f"{module.name}:{node.lineno} {node.func.id}(...)"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in provider_names
    ]
    # THEN every provider resource, data source and struct goes through new(), which escapes user strings
    assert direct == []
