"""DeploymentSpec: each strategy reads its own fields, the test listener stays private, one error names the fix."""

import pytest
from pydantic import ValidationError

from blueprints.alb_inference_spec import AlbInferenceSpec
from blueprints.deployment_spec import DeploymentSpec

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/svc:1"
SERVICE = {
    "name": "svc-a",
    "capacity": {"instance_types": ["g6.xlarge"]},
    "container": {"image": IMAGE, "gpu": 1, "port": 8080},
    "alb": {
        "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        "allowed_cidrs": ["10.0.0.0/8"],
    },
    "scaling": {"max_tasks": 3},
}


def test_a_spec_without_a_deployment_rolls_with_no_alarm_rollback_and_the_200_percent_surge():
    # GIVEN a service spec that does not mention deployment WHEN validated
    spec = AlbInferenceSpec.model_validate(SERVICE)
    # THEN it rolls as before: no traffic shifting, no alarm rollback, hosts for 200% of the tasks
    assert spec.deployment.strategy == "rolling" and not spec.deployment.shifts_traffic
    assert spec.deployment.alarm_rollback is False
    assert spec.max_hosts == 6


def test_a_blue_green_deployment_reserves_hosts_for_a_full_green_fleet_and_rolls_back_on_alarms():
    # GIVEN a blue/green service of at most 3 tasks, one per host
    spec = AlbInferenceSpec.model_validate({**SERVICE, "deployment": {"strategy": "blue_green"}})
    # THEN the ASG maximum holds blue and green side by side, the bake defaults to 15 minutes, alarms roll back
    assert spec.max_hosts == 6
    assert spec.deployment.both_fleets_minutes == 15
    assert spec.deployment.alarm_rollback is True


@pytest.mark.parametrize(
    ("fields", "minutes"),
    [
        ({"strategy": "canary", "canary_bake_minutes": 5, "bake_time_minutes": 10}, 15),
        ({"strategy": "linear", "step_percent": 25, "step_bake_minutes": 4, "bake_time_minutes": 0}, 12),
        ({"strategy": "linear", "step_percent": 30, "step_bake_minutes": 5}, 30),
    ],
)
def test_both_fleets_run_through_every_traffic_step_and_the_bake(fields, minutes):
    # GIVEN a canary or linear deployment WHEN its duration is read
    # THEN it is the canary bake (or the waits between steps) plus the final bake
    assert DeploymentSpec(**fields).both_fleets_minutes == minutes


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"strategy": "rolling", "bake_time_minutes": 5}, "deployment.bake_time_minutes: a rolling deployment"),
        ({"strategy": "blue_green", "canary_percent": 10}, "deployment.canary_percent: a blue_green deployment"),
        ({"strategy": "canary", "step_percent": 10}, "Fix: drop it, or set a strategy that does (linear)"),
        ({"strategy": "rolling", "test_listener_port": 8443}, "deployment.test_listener_port: a rolling"),
        ({"strategy": "blue_green", "test_listener_port": 8443}, "deployment.test_listener_cidrs: empty"),
        (
            {"strategy": "blue_green", "test_listener_port": 8443, "test_listener_cidrs": ["0.0.0.0/0"]},
            "0.0.0.0/0 opens untested revisions to the internet",
        ),
        ({"strategy": "canary", "test_listener_port": 443, "test_listener_cidrs": ["10.0.0.0/8"]}, "e.g. 8443"),
        ({"strategy": "linear", "step_percent": 2}, "step_percent"),
        ({"strategy": "canary", "canary_bake_minutes": 1441}, "canary_bake_minutes"),
    ],
)
def test_a_bad_deployment_is_one_validation_error_naming_the_field_and_the_fix(fields, named):
    # GIVEN a service whose deployment sets a field its strategy does not read, or an open or clashing test
    # listener, or a value outside the provider's bounds
    # WHEN the service spec is validated
    with pytest.raises(ValidationError) as caught:
        AlbInferenceSpec.model_validate({**SERVICE, "deployment": fields})
    # THEN one error names the deployment field and what to do
    assert caught.value.error_count() == 1, caught.value
    assert named in str(caught.value) and "deployment" in str(caught.value), caught.value


@pytest.mark.parametrize("strategy", ["rolling", "blue_green", "canary", "linear"])
def test_a_dumped_spec_validates_again_with_its_unused_fields_at_their_defaults(strategy):
    # GIVEN a service spec with a deployment, dumped as a dict (every field written, unused ones as None or ())
    dumped = AlbInferenceSpec.model_validate({**SERVICE, "deployment": {"strategy": strategy}}).model_dump()
    # WHEN validated again THEN it is the same spec
    assert AlbInferenceSpec.model_validate(dumped).deployment == DeploymentSpec(strategy=strategy)
