"""WorkerConfig from the environment the ECS task definition sets."""

import pytest

from sdk.jobs import WORKER_ENV_VARS, JobConfigError, WorkerConfig

BASE = {"GPU_JOBS_QUEUE_URL": "https://sqs/q", "GPU_JOBS_TABLE": "t", "GPU_JOBS_BUCKET": "b"}


def test_the_task_definition_contract_names_six_variables() -> None:
    assert WORKER_ENV_VARS == (
        "GPU_JOBS_QUEUE_URL",
        "GPU_JOBS_TABLE",
        "GPU_JOBS_BUCKET",
        "GPU_JOBS_PREFIX",
        "GPU_JOBS_VISIBILITY_TIMEOUT",
        "GPU_JOBS_IDLE_EXIT_SECONDS",
    )


def test_defaults_apply_when_only_the_resources_are_set() -> None:
    config = WorkerConfig.from_env(BASE)
    assert (config.prefix, config.visibility_timeout, config.idle_exit_seconds) == ("jobs/", 300, None)
    assert (config.wait_seconds, config.heartbeat_interval) == (20, 100)


def test_every_variable_is_read() -> None:
    env = {
        **BASE,
        "GPU_JOBS_PREFIX": "render/",
        "GPU_JOBS_VISIBILITY_TIMEOUT": "60",
        "GPU_JOBS_IDLE_EXIT_SECONDS": "900",
        "GPU_JOBS_WAIT_SECONDS": "5",
        "GPU_JOBS_STOP_GRACE_SECONDS": "10",
        "GPU_JOBS_MAX_RECEIVE_COUNT": "4",
    }
    config = WorkerConfig.from_env(env)
    assert (config.prefix, config.visibility_timeout, config.idle_exit_seconds) == ("render/", 60, 900)
    assert (config.wait_seconds, config.stop_grace_seconds, config.max_receive_count) == (5, 10, 4)


def test_missing_variables_are_named() -> None:
    with pytest.raises(JobConfigError, match="GPU_JOBS_TABLE, GPU_JOBS_BUCKET not set"):
        WorkerConfig.from_env({"GPU_JOBS_QUEUE_URL": "q"})


def test_a_malformed_number_names_its_variable() -> None:
    with pytest.raises(JobConfigError, match=r"^GPU_JOBS_VISIBILITY_TIMEOUT='5m': .*fix the value or unset it"):
        WorkerConfig.from_env({**BASE, "GPU_JOBS_VISIBILITY_TIMEOUT": "5m"})


def test_a_prefix_without_its_slash_is_refused_with_an_example() -> None:
    with pytest.raises(JobConfigError, match=r"GPU_JOBS_PREFIX='jobs'.*like 'jobs/'"):
        WorkerConfig.from_env({**BASE, "GPU_JOBS_PREFIX": "jobs"})


def test_a_config_rejects_unknown_fields() -> None:
    with pytest.raises(ValueError, match="visibilty_timeout\n  Extra inputs are not permitted"):
        WorkerConfig(queue_url="q", table_name="t", bucket="b", visibilty_timeout=3)  # type: ignore[call-arg]


def test_a_heartbeat_slower_than_half_the_visibility_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match=r"heartbeat_seconds=40\.0 must be at most half of visibility_timeout=60"):
        WorkerConfig(queue_url="q", table_name="t", bucket="b", visibility_timeout=60, heartbeat_seconds=40)
