"""GpuService: the ECS service's deployment settings as provider 6.25.0 spells them."""

import pytest

from sdk.constructs.service import deployment_configuration


@pytest.mark.parametrize(
    ("strategy", "kwargs", "expected"),
    [
        ("BLUE_GREEN", {"bake_minutes": 15}, {"strategy": "BLUE_GREEN", "bake_time_in_minutes": "15"}),
        (
            "CANARY",
            {"bake_minutes": 0, "canary": (5.5, 3)},
            {
                "strategy": "CANARY",
                "bake_time_in_minutes": "0",
                "canary_configuration": {"canary_percent": 5.5, "canary_bake_time_in_minutes": "3"},
            },
        ),
        (
            "LINEAR",
            {"bake_minutes": 10, "linear": (20.0, 4)},
            {
                "strategy": "LINEAR",
                "bake_time_in_minutes": "10",
                "linear_configuration": {"step_percent": 20.0, "step_bake_time_in_minutes": "4"},
            },
        ),
    ],
)
def test_bake_times_are_the_providers_nullable_int_strings_and_percentages_numbers(strategy, kwargs, expected):
    # GIVEN a strategy with its timings WHEN turned into the deployment_configuration block
    # THEN minutes are strings (the provider's nullable ints) and percentages stay numbers
    assert deployment_configuration(strategy, **kwargs) == expected
