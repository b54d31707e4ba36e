"""SQS's limits are written once (sdk/jobs/sqs_limits.py) and every layer that checks or sets one uses them."""

import pytest
from pydantic import ValidationError

from sdk.jobs import WorkerConfig
from sdk.jobs import sqs_limits as sqs
from tests.literals import numbers_outside

REQUIRED = {"queue_url": "https://sqs.example/q", "table_name": "jobs", "bucket": "b"}


def test_no_sqs_limit_is_written_outside_its_home():
    # GIVEN the SDK's modules WHEN searched for SQS's numeric limits (12 h, 14 days, 4 days, 256 KiB)
    limits = (
        sqs.MAX_VISIBILITY_SECONDS,
        sqs.MAX_RETENTION_SECONDS,
        sqs.DEFAULT_RETENTION_SECONDS,
        sqs.MAX_MESSAGE_BYTES,
    )
    found = numbers_outside("sdk/jobs/sqs_limits.py", ("sdk",), limits)
    # THEN none is written again: the worker config, schema, DLQ sweep and queue construct import them
    assert found == []


@pytest.mark.parametrize(
    ("field", "limit"), [("visibility_timeout", sqs.MAX_VISIBILITY_SECONDS), ("wait_seconds", sqs.MAX_WAIT_SECONDS)]
)
def test_the_worker_config_accepts_up_to_the_sqs_limit_and_no_further(field, limit):
    # GIVEN a worker config at SQS's limit THEN it is accepted, and one second more is refused by name
    assert getattr(WorkerConfig(**REQUIRED, **{field: limit}), field) == limit
    with pytest.raises(ValidationError, match=field):
        WorkerConfig(**REQUIRED, **{field: limit + 1})
