"""Terraform JSON helpers: one stack-file name and one way to read stacks and find their resources."""

import json

from sdk.tfjson import STACK_FILE, addresses, count_resources, load_stack, load_stacks, resources, stack_file
from tests.literals import spelled_outside

STACK = {
    "data": {"aws_ami": {"gpu": {"owners": ["amazon"]}}},
    "resource": {"aws_sqs_queue": {"jobs": {"name": "jobs"}, "dlq": {"name": "dlq"}}, "aws_s3_bucket": {"b": {}}},
}


def test_addresses_name_every_resource_and_data_source_as_terraform_does():
    # GIVEN a stack with two queues, a bucket and an AMI lookup WHEN addressed
    found = addresses(STACK)
    # THEN each is under its Terraform address, data sources prefixed with data.
    assert set(found) == {"aws_sqs_queue.jobs", "aws_sqs_queue.dlq", "aws_s3_bucket.b", "data.aws_ami.gpu"}
    assert found["data.aws_ami.gpu"] == {"owners": ["amazon"]}


def test_resources_of_a_type_the_stack_lacks_are_empty_and_counts_skip_data_sources():
    assert resources(STACK, "aws_sqs_queue")["jobs"] == {"name": "jobs"}
    assert resources(STACK, "aws_lb") == {} and resources({}, "aws_lb") == {}
    assert count_resources(STACK) == 3


def test_stacks_written_to_their_stack_file_load_back_by_folder_name(tmp_path):
    # GIVEN two stacks written where synth writes them, and a folder with no stack file
    for name in ("a", "b"):
        stack_file(tmp_path, name).parent.mkdir()
        stack_file(tmp_path, name).write_text(json.dumps({**STACK, "name": name}), encoding="utf-8")
    (tmp_path / "notes").mkdir()
    # WHEN loaded THEN both come back by name, and the other folder is not a stack
    assert stack_file(tmp_path, "a") == tmp_path / "a" / STACK_FILE
    assert load_stacks(tmp_path) == {"a": {**STACK, "name": "a"}, "b": {**STACK, "name": "b"}}
    assert load_stack(tmp_path, "b")["name"] == "b"


def test_no_module_or_test_spells_the_stack_file_name_again():
    # GIVEN the SDK and the tests WHEN searched for the stack file's name used as a file name
    found = spelled_outside("sdk/tfjson.py", ("sdk", "tests", "bench"), r"(^|/)cdk\.tf\.json$")
    # THEN it is only sdk/tfjson.py's STACK_FILE
    assert found == []
