"""Override files, provider facts and destroy guards of the rehearsal (no terraform needed)."""

from sdk.rehearse.terraform import (
    DUMMY_CREDENTIALS,
    ProviderFacts,
    provider_override,
    teardown_override,
    unknown_arguments,
    without,
)

SCHEMAS = {
    "resource": {
        "aws_sqs_queue": {
            "block": {
                "attributes": {"name": {}, "tags": {}},
                "block_types": {"timeouts": {"block": {"attributes": {"create": {}}}}},
            }
        }
    },
    "data": {"aws_region": {"block": {"attributes": {"name": {}}}}},
}
FACTS = ProviderFacts(endpoints=("sqs", "sts"), schemas=SCHEMAS)


def stack(**queue: object) -> dict:
    return {"resource": {"aws_sqs_queue": {"q": {"name": "q", **queue}}}, "data": {"aws_region": {"r": {}}}}


def test_arguments_the_mirrored_provider_does_not_know_are_named_by_path():
    # GIVEN a stack with a top-level and a nested argument, and a resource type, newer than the provider
    tf = stack(region="eu-west-1", timeouts={"create": "1m", "update": "2m"}, depends_on=["x"], lifecycle={})
    tf["resource"]["aws_new_thing"] = {"n": {"name": "n"}}
    # WHEN checked against the provider's schema
    unknown = unknown_arguments(tf, FACTS)
    # THEN each is named, meta-arguments are not, and known ones pass
    assert unknown == ["aws_sqs_queue.q.region", "aws_sqs_queue.q.timeouts.update", "aws_new_thing.n (resource type)"]


def test_the_rehearsed_copy_drops_exactly_the_unknown_arguments():
    tf = stack(region="eu-west-1", timeouts={"create": "1m", "update": "2m"})
    tf["resource"]["aws_new_thing"] = {"n": {}}
    copy = without(tf, unknown_arguments(tf, FACTS))
    assert copy["resource"] == {
        "aws_sqs_queue": {"q": {"name": "q", "timeouts": {"create": "1m"}}},
        "aws_new_thing": {},
    }
    # and the original is untouched
    assert tf["resource"]["aws_sqs_queue"]["q"]["region"] == "eu-west-1"


def test_the_provider_override_points_every_endpoint_at_the_emulator_with_dummy_credentials():
    (provider,) = provider_override(FACTS.endpoints, "http://127.0.0.1:9")["provider"]["aws"]
    assert provider["endpoints"] == [{"sqs": "http://127.0.0.1:9", "sts": "http://127.0.0.1:9"}]
    assert {k: provider[k] for k in DUMMY_CREDENTIALS} == DUMMY_CREDENTIALS
    assert provider["skip_metadata_api_check"] is True


def test_teardown_lifts_each_destroy_guard_the_stack_sets_and_nothing_else():
    # GIVEN a protected table and load balancer, a bucket without force_destroy and an unprotected table
    tf = {
        "resource": {
            "aws_dynamodb_table": {
                "t": {"deletion_protection_enabled": True},
                "u": {"deletion_protection_enabled": False},
            },
            "aws_lb": {"lb": {"enable_deletion_protection": True}},
            "aws_s3_bucket": {"b": {"bucket_prefix": "x-"}},
            "aws_sqs_queue": {"q": {"name": "q"}},
        }
    }
    # WHEN the teardown override is made THEN it turns off exactly those guards
    assert teardown_override(tf)["resource"] == {
        "aws_dynamodb_table": {"t": {"deletion_protection_enabled": False}},
        "aws_lb": {"lb": {"enable_deletion_protection": False}},
        "aws_s3_bucket": {"b": {"force_destroy": True}},
    }


def test_a_block_nested_in_a_list_of_blocks_is_named_and_dropped_in_every_item_and_nothing_else():
    # GIVEN an ECS service as 5.100.0 knows it (load_balancer blocks, alarms) emitting 6.25.0's
    # deployment_configuration and load_balancer.advanced_configuration
    ecs = {
        "block": {
            "attributes": {"name": {}},
            "block_types": {
                "alarms": {"block": {"attributes": {"alarm_names": {}, "enable": {}, "rollback": {}}}},
                "load_balancer": {"block": {"attributes": {"target_group_arn": {}, "container_port": {}}}},
            },
        }
    }
    facts = ProviderFacts(endpoints=("ecs",), schemas={"resource": {"aws_ecs_service": ecs}, "data": {}})
    alarms = {"alarm_names": ["a"], "enable": True, "rollback": True}
    balancer = {"target_group_arn": "tg", "container_port": 80, "advanced_configuration": {"role_arn": "r"}}
    tf = {
        "resource": {
            "aws_ecs_service": {
                "s": {
                    "name": "s",
                    "alarms": alarms,
                    "load_balancer": [balancer, dict(balancer)],
                    "deployment_configuration": {"strategy": "BLUE_GREEN"},
                }
            }
        }
    }
    # WHEN checked and copied for the rehearsal
    unknown = unknown_arguments(tf, facts)
    copy = without(tf, unknown)
    # THEN both newer arguments are named once each (not once per load balancer), and the copy keeps the alarms
    # and both load balancers' known arguments
    assert unknown == [
        "aws_ecs_service.s.load_balancer.advanced_configuration",
        "aws_ecs_service.s.deployment_configuration",
    ]
    assert copy["resource"]["aws_ecs_service"]["s"] == {
        "name": "s",
        "alarms": alarms,
        "load_balancer": [{"target_group_arn": "tg", "container_port": 80}] * 2,
    }
