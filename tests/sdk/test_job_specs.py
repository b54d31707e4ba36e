"""JobResourcesSpec: one job stream's settings, named by the blueprint that holds it, compared with a given stream."""

import pytest
from pydantic import ValidationError

from sdk.job_specs import JobResourcesSpec


def test_a_nested_job_stream_takes_the_blueprints_name_and_keeps_what_was_set():
    # GIVEN a job stream with no name and one setting
    jobs = JobResourcesSpec(job_timeout_seconds=1200)
    # WHEN a blueprint names it
    named = jobs.named("edits")
    # THEN it has the blueprint's name, the setting, and still knows which fields were set
    assert (named.name, named.job_timeout_seconds) == ("edits", 1200)
    assert named.model_fields_set == {"name", "job_timeout_seconds"}
    assert JobResourcesSpec(name="own").named("edits").name == "own"


def test_only_fields_set_to_another_value_than_a_given_stream_conflict():
    # GIVEN a given stream with a 1800 s timeout
    given = JobResourcesSpec(name="shared", job_timeout_seconds=1800)
    # WHEN specs that leave it, repeat it or contradict it are compared
    # THEN only the contradicting field is named (the name never conflicts: the given stream has its own)
    assert JobResourcesSpec().conflicts_with(given) == []
    assert JobResourcesSpec(name="other", job_timeout_seconds=1800).conflicts_with(given) == []
    assert JobResourcesSpec(job_timeout_seconds=900, prefix="in/").conflicts_with(given) == [
        "job_timeout_seconds",
        "prefix",
    ]


def test_a_timeout_beyond_the_sqs_visibility_limit_names_the_field_and_the_fix():
    with pytest.raises(ValidationError, match=r"job_timeout_seconds: 43141 s .* Fix: at most 43140"):
        JobResourcesSpec(job_timeout_seconds=43141)
