"""The change summary: addresses, attribute paths and replacements, on the example stacks."""

import copy
import json

from sdk.review.diff import deep_diff, diff_stacks
from sdk.tfjson import load_stacks
from tests.sdk.review.conftest import only


def test_an_unchanged_stack_has_no_changes(public_stack):
    # GIVEN the committed public example and an identical copy
    # WHEN they are diffed
    # THEN nothing is added, removed or changed
    assert diff_stacks(copy.deepcopy(public_stack), public_stack) == ()


def test_a_queue_rename_is_a_replacement_at_the_right_address():
    # GIVEN a queue whose name changes and whose retention changes
    before = {"resource": {"aws_sqs_queue": {"jobs": {"name": "jobs", "message_retention_seconds": 60}}}}
    after = {"resource": {"aws_sqs_queue": {"jobs": {"name": "jobs-v2", "message_retention_seconds": 120}}}}
    # WHEN diffed
    (change,) = diff_stacks(before, after)
    # THEN the address and both paths are listed, and only the name forces replacement
    assert (change.address, change.kind, change.replacement) == ("aws_sqs_queue.jobs", "changed", True)
    paths = {a.path: a.forces_replacement for a in change.attributes}
    assert paths == {"message_retention_seconds": False, "name": True}


def test_a_table_key_change_forces_replacement_but_a_ttl_change_does_not():
    # GIVEN a DynamoDB table whose range key is added, and one whose TTL attribute changes
    before = {"resource": {"aws_dynamodb_table": {"a": {"hash_key": "id"}, "b": {"ttl": [{"attribute_name": "x"}]}}}}
    after = {
        "resource": {
            "aws_dynamodb_table": {"a": {"hash_key": "id", "range_key": "ts"}, "b": {"ttl": [{"attribute_name": "y"}]}}
        }
    }
    # WHEN diffed
    changes = {c.address: c for c in diff_stacks(before, after)}
    # THEN the key change is a replacement with its path; the TTL change is in place at ttl[0].attribute_name
    assert changes["aws_dynamodb_table.a"].replacement
    assert [a.path for a in changes["aws_dynamodb_table.a"].attributes] == ["range_key"]
    assert not changes["aws_dynamodb_table.b"].replacement
    assert [a.path for a in changes["aws_dynamodb_table.b"].attributes] == ["ttl[0].attribute_name"]


def test_a_container_image_change_shows_inside_the_task_definition_json(public_stack):
    # GIVEN the public example with a new container image (container_definitions is a JSON string)
    before = copy.deepcopy(public_stack)
    name, task = only(public_stack, "aws_ecs_task_definition")
    containers = json.loads(task["container_definitions"])
    containers[0]["image"] = "example.com/sdxl:v2"
    task["container_definitions"] = json.dumps(containers)
    # WHEN diffed
    (change,) = diff_stacks(before, public_stack)
    # THEN the path points into the decoded JSON, and a task definition change is a new revision
    assert change.address == f"aws_ecs_task_definition.{name}"
    assert [a.path for a in change.attributes] == ["container_definitions[0].image"]
    assert change.attributes[0].after == "example.com/sdxl:v2"
    assert change.replacement and "revision" in change.note


def test_a_launch_template_change_is_a_new_version_with_an_instance_refresh_note(public_stack):
    # GIVEN the public example with a bigger root volume
    before = copy.deepcopy(public_stack)
    name, template = only(public_stack, "aws_launch_template")
    template["block_device_mappings"][0]["ebs"]["volume_size"] = 400
    # WHEN diffed
    (change,) = diff_stacks(before, public_stack)
    # THEN it is an in-place change (no replacement) that tells the reviewer hosts roll only on refresh
    assert change.address == f"aws_launch_template.{name}"
    assert [a.path for a in change.attributes] == ["block_device_mappings[0].ebs.volume_size"]
    assert not change.replacement and "instance refresh" in change.note


def test_added_and_removed_resources_and_data_sources_are_listed(internal_stack):
    # GIVEN the internal example with one endpoint removed and one new data source
    before = copy.deepcopy(internal_stack)
    endpoints = internal_stack["resource"]["aws_vpc_endpoint"]
    removed = sorted(endpoints)[0]
    del endpoints[removed]
    internal_stack.setdefault("data", {}).setdefault("aws_partition", {})["extra"] = {}
    # WHEN diffed
    kinds = {c.address: c.kind for c in diff_stacks(before, internal_stack)}
    # THEN both show with their addresses
    assert kinds == {f"aws_vpc_endpoint.{removed}": "removed", "data.aws_partition.extra": "added"}


def test_a_stack_without_a_baseline_is_all_added(internal_stack):
    # GIVEN no previous version
    # WHEN diffed
    changes = diff_stacks(None, internal_stack)
    # THEN every resource is added
    assert {c.kind for c in changes} == {"added"}
    assert len(changes) == sum(len(items) for items in internal_stack["resource"].values()) + sum(
        len(items) for items in internal_stack.get("data", {}).values()
    )


def test_deep_diff_ignores_cdktf_metadata_and_reports_list_length_changes():
    # GIVEN a body whose cdktf metadata changes and whose list grows
    before = {"//": {"metadata": {"path": "a"}}, "subnets": ["a"]}
    after = {"//": {"metadata": {"path": "b"}}, "subnets": ["a", "b"]}
    # WHEN diffed
    # THEN only the list is reported, as a whole
    assert list(deep_diff(before, after)) == [("subnets", ["a"], ["a", "b"])]


def test_every_resource_type_the_blueprints_emit_has_its_replacement_rule(public_stack, internal_stack):
    # GIVEN every stack in generated/ WHEN their resource types are listed
    from sdk.review.diff import CHANGE_NOTES, FORCES_REPLACEMENT
    from tests.sdk.review.conftest import GENERATED

    emitted = {kind for stack in load_stacks(GENERATED).values() for kind in stack.get("resource", {})}
    # THEN each one has a ForceNew table entry (possibly empty) or a change note: none is silently in place
    assert emitted - set(FORCES_REPLACEMENT) - set(CHANGE_NOTES) == set()


def test_a_launch_template_rename_and_a_bucket_move_are_replacements():
    before = {
        "resource": {
            "aws_launch_template": {"lt": {"name": "gpu", "image_id": "a"}},
            "aws_s3_bucket_versioning": {"v": {"bucket": "b1"}},
        }
    }
    after = {
        "resource": {
            "aws_launch_template": {"lt": {"name": "gpu-2", "image_id": "a"}},
            "aws_s3_bucket_versioning": {"v": {"bucket": "b2"}},
        }
    }
    assert all(change.replacement for change in diff_stacks(before, after))
