"""`new()` turns dicts inside lists into jsii structs, which jsii itself does not do."""

from cdktf import TerraformStack, Testing
from cdktf_cdktf_provider_aws.autoscaling_group import AutoscalingGroup, AutoscalingGroupTag

import sdk.constructs  # noqa: F401
from sdk.constructs.structs import convert, new


def test_dicts_in_lists_become_struct_instances_and_plain_maps_stay_maps():
    config = convert(
        AutoscalingGroup, {"tag": [{"key": "k", "value": "v", "propagate_at_launch": True}], "max_size": 2}
    )
    assert isinstance(config["tag"][0], AutoscalingGroupTag)
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
