"""Shared specs: image references follow the OCI/Docker grammar and regions are ones the catalog knows, so neither can
carry shell or Terraform syntax into a host script.

ContainerSpec.model_source: a typed model source folds into the container ECS runs (environment, token, cache
volume, health-check start period); bad sources are refused by field with the fix.

sdk.specs: secret-looking names in a plain container environment are warned about and pointed to `secrets`.

Every spec module imports without cdktf (no Node start); every spec class has a docstring, every field its default."""

import importlib
import pkgutil
import re
import subprocess
import sys
import warnings
from typing import Any

import pytest
from pydantic import ValidationError

from sdk import specs
from sdk.specs import (
    CapacitySpec,
    ContainerSpec,
    HealthCheckSpec,
    HuggingFaceModelSource,
    NetworkSpec,
    S3ModelSource,
    SecretInEnvironmentWarning,
    SecretRef,
    VolumeSpec,
    WarmPoolSpec,
    cidr_block,
    image_reference,
    looks_secret,
    mount_path,
    subnet_id,
    vpc_id,
)

DIGEST = "sha256:" + "a" * 64
VALID = (
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/worker:1.2.3",
    "public.ecr.aws/nvidia/cuda:12.4.1-runtime-ubuntu22.04",
    "ubuntu",
    "library/ubuntu:24.04",
    "localhost:5000/a/b_c__d-e.f:v1",
    "registry.example.com:8443/x@" + DIGEST,
    "repo/worker:1@" + DIGEST,
    "repo/worker:${TfToken[TOKEN.3]}",
    "${TfToken[TOKEN.3]}",
)
INVALID = (
    "repo/worker:1$(reboot)",
    "repo/worker:`reboot`",
    "repo/worker:1;reboot",
    "repo/worker:1\nreboot",
    "repo/worker:'1'",
    "repo/${IFS}worker",
    "Repo/Worker:1",
    "repo/worker:-1",
    "repo/worker:" + "x" * 129,
    "repo/worker@sha256:short",
    "repo//worker",
    "repo/worker:1 ",
)


@pytest.mark.parametrize("image", VALID)
def test_references_docker_accepts_pass_tokens_included(image):
    assert image_reference(image) == image


@pytest.mark.parametrize("image", INVALID)
def test_a_container_image_outside_the_reference_grammar_is_refused_with_the_fix(image):
    with pytest.raises(ValidationError) as error:
        ContainerSpec(image=image)
    assert error.value.error_count() == 1 and "container" not in error.value.errors()[0]["loc"]
    assert error.value.errors()[0]["loc"] == ("image",) and "is not an image reference" in str(error.value)
    assert "Fix: e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/worker:1.2" in str(error.value)


@pytest.mark.parametrize("image", INVALID)
def test_a_prepull_image_outside_the_grammar_is_refused_by_its_position(image):
    with pytest.raises(ValidationError) as error:
        WarmPoolSpec(prepull_images=("ubuntu", image))
    assert error.value.errors()[0]["loc"] == ("prepull_images", 1)


@pytest.mark.parametrize("region", ["us-east-1; reboot", "US-EAST-1", "us-east-9", "$(reboot)", "us-east1"])
def test_a_region_the_catalog_does_not_know_is_refused_with_known_ones_as_the_fix(region):
    from blueprints.idle_stop_queue import IdleStopGpuQueueSpec

    with pytest.raises(ValidationError) as error:
        IdleStopGpuQueueSpec(
            name="jobs", capacity={"instance_types": ["g6.xlarge"]}, container={"image": "w:1"}, region=region
        )
    assert error.value.errors()[0]["loc"] == ("region",) and "is not an AWS region. Fix: one of" in str(error.value)


def test_a_known_region_passes_and_no_region_means_the_stacks():
    from blueprints.idle_stop_queue import IdleStopGpuQueueSpec

    fields = {"name": "jobs", "capacity": {"instance_types": ["g6.xlarge"]}, "container": {"image": "w:1"}}
    assert IdleStopGpuQueueSpec(**fields, region="eu-central-2").region == "eu-central-2"
    assert IdleStopGpuQueueSpec(**fields).region is None
    assert "region" not in NetworkSpec.model_fields  # the stack is the one source of truth


@pytest.mark.parametrize(("pool", "stopped"), [({}, 1), ({"min_size": 2}, 2), ({"min_size": 1, "max_prepared": 3}, 3)])
def test_a_warm_pool_at_rest_holds_min_size_or_max_prepared_when_larger(pool, stopped):
    # max_group_prepared_capacity (0 unless max_prepared) minus 0 running, never below min_size (AWS PutWarmPool)
    assert WarmPoolSpec(**pool).stopped_hosts_at_rest == stopped


IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"
TOKEN_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-token-AbCdEf"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
HEALTH = HealthCheckSpec(command=("CMD-SHELL", "curl -f localhost:8080/healthz"))


def container(**changes: Any) -> ContainerSpec:
    return ContainerSpec.model_validate({"image": IMAGE, "health_check": HEALTH, **changes})


def test_without_a_model_source_the_container_runs_as_written():
    # GIVEN a container whose image brings its model (the default)
    spec = container()
    # WHEN it is folded for ECS
    ecs = spec.with_model_source()
    # THEN nothing is added and the health check gets the 120 s default start period
    assert spec.model_source is None and spec.model_download_seconds == 0
    assert ecs == spec.model_copy(update={"health_check": HEALTH.model_copy(update={"start_period_seconds": 120})})


def test_an_s3_source_tells_the_container_where_the_model_is_and_mounts_a_host_shared_cache():
    # GIVEN an S3 source of 16 GiB
    spec = container(model_source=S3ModelSource(uri="s3://models-bucket/llama/v3/", size_gib=16))
    # WHEN it is folded for ECS
    ecs = spec.with_model_source()
    # THEN the environment names the prefix and a local folder keyed by bucket and prefix on the cache volume
    assert ecs.environment == {
        "MODEL_SOURCE": "s3",
        "MODEL_S3_URI": "s3://models-bucket/llama/v3/",
        "MODEL_DIR": "/models/models-bucket/llama/v3",
    }
    assert ecs.volumes == (VolumeSpec(name="model-cache", container_path="/models", shared=True),)
    # AND the download (16 GiB at 80 MiB/s = 205 s) lengthens the start period up to ECS's 300 s limit
    assert spec.model_download_seconds == 205
    assert ecs.health_check is not None and ecs.health_check.start_period_seconds == 300
    assert ecs.model_source is None and ecs.with_model_source() == ecs


def test_a_hub_source_sets_hf_home_on_the_cache_its_revision_and_its_token_as_a_secret():
    # GIVEN a gated Hub repo pinned to a commit, with a token, cached per task, 7 GiB
    source = HuggingFaceModelSource(
        repo_id="meta-llama/Llama-3.1-8B-Instruct",
        revision="0e9e39f249a16976918f6564b8830bc894c89659",
        token=SecretRef(name="HF_TOKEN", value_from=TOKEN_ARN),
        size_gib=7,
        cache="task",
        cache_path="/var/cache/hf",
    )
    # WHEN the container is folded for ECS
    ecs = container(environment={"PORT": "8080"}, model_source=source).with_model_source()
    # THEN the hub client finds its cache, repo and revision, and the token comes from Secrets Manager
    assert ecs.environment == {
        "PORT": "8080",
        "MODEL_SOURCE": "huggingface",
        "MODEL_ID": "meta-llama/Llama-3.1-8B-Instruct",
        "MODEL_REVISION": "0e9e39f249a16976918f6564b8830bc894c89659",
        "HF_HOME": "/var/cache/hf",
    }
    assert ecs.secrets == (SecretRef(name="HF_TOKEN", value_from=TOKEN_ARN),)
    assert ecs.volumes == (VolumeSpec(name="model-cache", container_path="/var/cache/hf", shared=False),)
    # AND 7 GiB at 50 MiB/s (144 s) is added to the default 120 s start period
    assert ecs.health_check is not None and ecs.health_check.start_period_seconds == 264


def test_a_start_period_the_user_set_is_kept():
    # GIVEN a health check with an explicit start period and a large download
    check = HealthCheckSpec(command=("CMD", "true"), start_period_seconds=60)
    spec = container(health_check=check, model_source=S3ModelSource(uri="s3://b-1/m/", size_gib=40))
    # WHEN folded THEN the user's 60 s stands
    ecs = spec.with_model_source()
    assert ecs.health_check is not None and ecs.health_check.start_period_seconds == 60


def test_model_sources_parse_from_plain_data_by_kind():
    spec = container(model_source={"kind": "huggingface", "repo_id": "gpt2"})
    assert isinstance(spec.model_source, HuggingFaceModelSource)
    assert spec.model_source.size_gib is None and spec.model_download_seconds == 0


BAD_SOURCES = [
    ("an S3 URI without a prefix folder", {"kind": "s3", "uri": "s3://bucket/"}, "uri"),
    ("an S3 prefix with a wildcard", {"kind": "s3", "uri": "s3://bucket/models/*/"}, "uri"),
    ("an S3 URI that is a key, not a folder", {"kind": "s3", "uri": "s3://bucket/model.bin"}, "uri"),
    (
        "a KMS alias instead of a key",
        {"kind": "s3", "uri": "s3://bucket/m/", "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:alias/models"},
        "kms_key_arn",
    ),
    ("a hub repo id with a space", {"kind": "huggingface", "repo_id": "org/my model"}, "repo_id"),
    ("an unknown source kind", {"kind": "ftp", "uri": "ftp://x/"}, "model_source"),
    (
        "a token from an S3 object",
        {"kind": "huggingface", "repo_id": "a/b", "token": {"name": "HF_TOKEN", "value_from": "arn:aws:s3:::b/t"}},
        "value_from",
    ),
]


@pytest.mark.parametrize(("case", "source", "field"), BAD_SOURCES, ids=[c[0] for c in BAD_SOURCES])
def test_a_bad_model_source_raises_one_error_naming_its_field(case, source, field):
    # GIVEN a container with one mistake in its model source WHEN it is validated
    with pytest.raises(ValidationError) as error:
        container(model_source=source)
    # THEN one error names the field
    assert error.value.error_count() == 1, str(error.value)
    assert field in str(error.value)


COLLISIONS = [
    (
        "a variable the source sets",
        {"environment": {"MODEL_ID": "x"}, "model_source": {"kind": "huggingface", "repo_id": "a/b"}},
        "container.environment",
    ),
    (
        "a token that is also a plain variable",
        {
            "environment": {"HF_TOKEN": "x"},
            "model_source": {
                "kind": "huggingface",
                "repo_id": "a/b",
                "token": {"name": "HF_TOKEN", "value_from": TOKEN_ARN},
            },
        },
        "container.environment",
    ),
    (
        "a token that is also a container secret",
        {
            "secrets": [{"name": "HF_TOKEN", "value_from": TOKEN_ARN}],
            "model_source": {
                "kind": "huggingface",
                "repo_id": "a/b",
                "token": {"name": "HF_TOKEN", "value_from": TOKEN_ARN},
            },
        },
        "container.secrets",
    ),
    (
        "a cache on the scratch path",
        {"model_source": {"kind": "s3", "uri": "s3://b-1/m/", "cache_path": "/tmp"}},
        "volumes",
    ),
    (
        "a volume named like the cache",
        {
            "volumes": [{"name": "model-cache", "container_path": "/data"}],
            "model_source": {"kind": "s3", "uri": "s3://b-1/m/"},
        },
        "volumes",
    ),
]


@pytest.mark.parametrize(("case", "changes", "field"), COLLISIONS, ids=[c[0] for c in COLLISIONS])
def test_what_the_source_adds_may_not_collide_with_the_container(case, changes, field):
    # GIVEN a container whose own fields clash with what its model source adds WHEN it is validated
    with pytest.raises(ValidationError) as error:
        container(**changes)
    # THEN one error names the field and the fix
    message = str(error.value)
    assert error.value.error_count() == 1, message
    assert field in message and "Fix:" in message, message


def test_a_spec_copied_through_its_plain_data_still_derives_the_start_period():
    # GIVEN a container with a 4 GiB S3 model, dumped to plain data and validated again (as specs are edited)
    spec = container(model_source=S3ModelSource(uri="s3://models-bucket/m/", size_gib=4))
    copy = ContainerSpec.model_validate(spec.model_dump())
    # WHEN both are folded THEN the copy still adds the download (4 GiB at 80 MiB/s = 52 s) to 120 s
    for each in (spec, copy):
        check = each.with_model_source().health_check
        assert check is not None and check.start_period_seconds == 172


IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "db_password",
        "dbPassword",
        "PASSWORD",
        "SMTP_PASSWD",
        "GPG_PASSPHRASE",
        "HF_TOKEN",
        "GITHUB_ACCESS_TOKEN",
        "CLIENT_SECRET",
        "OPENAI_API_KEY",
        "apiKey",
        "APIKEY",
        "AWS_SECRET_ACCESS_KEY",
        "JWT_SIGNING_KEY",
        "SSH_PRIVATE_KEY",
        "SERVICE_CREDENTIALS",
        "REGISTRY_CREDS",
        "stripe-secret",
    ],
)
def test_names_whose_last_word_marks_a_secret_are_flagged(name):
    # GIVEN a variable named like a secret with a value WHEN checked THEN it is flagged
    assert looks_secret(name, "s3cr3t-value")


@pytest.mark.parametrize(
    "name",
    [
        "AWS_ACCESS_KEY_ID",
        "DB_SECRET_ARN",
        "OAUTH_TOKEN_URL",
        "DB_PASSWORD_FILE",
        "MAX_TOTAL_TOKENS",
        "TOKENIZERS_PARALLELISM",
        "KMS_KEY",
        "PUBLIC_KEY",
        "S3_KEY",
        "CACHE_KEY",
        "PARTITION_KEY",
        "RENDER_PASS",
        "PWD",
        "MODEL_ID",
        "KEYCLOAK_REALM",
    ],
)
def test_identifiers_public_material_and_words_that_only_contain_a_secret_word_are_not(name):
    # GIVEN a variable that names a key id, an ARN, a URL, a file, a key kind that is no secret, or unrelated words
    # WHEN checked THEN it is not flagged
    assert not looks_secret(name, "some-value")


@pytest.mark.parametrize(
    ("name", "value", "flagged"),
    [
        ("DATABASE_URL", "postgres://app:hunter2@db.internal:5432/app", True),
        ("REDIS_URL", "redis://:hunter2@cache:6379", True),
        ("DATABASE_URL", "postgres://db.internal:5432/app", False),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/run/secrets/gcp.json", False),
        ("API_TOKEN", "", False),
    ],
)
def test_values_decide_for_urls_with_a_password_files_and_empty_values(name, value, flagged):
    # GIVEN a value that embeds a password, names a file, or is empty WHEN checked THEN only the password is flagged
    assert looks_secret(name, value) is flagged


def test_a_container_with_secrets_in_plain_environment_warns_by_name_and_points_to_secrets():
    # GIVEN a container whose environment carries two secret-looking variables and a harmless one
    # WHEN the spec is built
    with pytest.warns(SecretInEnvironmentWarning) as caught:
        container = ContainerSpec(image=IMAGE, environment={"HF_TOKEN": "hf_x", "DB_PASSWORD": "p", "MODEL": "m"})
    # THEN one warning names both (sorted), says where they leak and the fix, and the spec keeps them as a note
    (warning,) = caught
    message = str(warning.message)
    assert message.startswith("container.environment: DB_PASSWORD, HF_TOKEN look like secrets in plain text")
    assert "Fix: move it to container.secrets" in message and "Secrets Manager" in message
    assert container.plain_secret_notes == (message,)
    # and the warning points at the caller's line, not at pydantic's
    assert warning.filename == __file__


def test_a_container_with_its_secrets_in_secrets_builds_silently():
    # GIVEN the same secrets passed as SecretRefs WHEN the spec is built THEN nothing is warned or noted
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        container = ContainerSpec(
            image=IMAGE, environment={"MODEL": "m"}, secrets=(SecretRef(name="DB_PASSWORD", value_from=arn),)
        )
    assert container.plain_secret_notes == ()


@pytest.mark.parametrize(
    ("value", "fix"),
    [("10.0.0.1", "Fix: 10.0.0.1/32"), ("10.0.0.1/8", "Fix: 10.0.0.0/8"), ("10.0.0.0/33", "Fix: e.g. 203.0.113.0/24")],
)
def test_a_cidr_must_be_a_canonical_block_and_the_error_names_the_block_to_use(value, fix):
    # GIVEN an address, a block with host bits, and no block at all WHEN checked THEN the fix names the block
    with pytest.raises(ValueError) as error:
        cidr_block(value)
    assert fix in str(error.value)


def test_ids_of_resources_in_the_same_stack_pass_as_cdktf_tokens():
    # GIVEN a VPC and subnets a blueprint created (the renderer's fallback shares them as tokens)
    token = "${TfToken[TOKEN.7]}"
    # WHEN a network spec names them THEN it is accepted as given
    assert NetworkSpec(vpc_id=token, private_subnet_ids=(token + "a", token + "b")).vpc_id == token
    assert vpc_id("vpc-0123456789abcdef0") and subnet_id("subnet-0a1b2c3d")


@pytest.mark.parametrize("path", ["/tmp", "/home/worker/.cache", "/models/"])
def test_an_absolute_mount_path_below_root_is_accepted(path):
    assert mount_path(path) == path


def test_only_changed_agent_defaults_become_review_notes():
    # GIVEN agent settings: one the template defaults, one it does not set
    spec = CapacitySpec(
        instance_types=("g5.xlarge",), ecs_agent_config={"ECS_IMAGE_PULL_BEHAVIOR": "always", "ECS_LOGLEVEL": "debug"}
    )
    # WHEN the notes are read THEN only the changed default is one
    assert spec.agent_config_notes == (
        "capacity.ecs_agent_config: ECS_IMAGE_PULL_BEHAVIOR=always replaces the blueprint's default (prefer-cached "
        "with a warm pool, else the agent's default).",
    )


SPEC_MODULES = ["sdk.specs", *(f"sdk.specs.{m.name}" for m in pkgutil.iter_modules(specs.__path__)), "sdk.grants"]


@pytest.mark.parametrize("module", SPEC_MODULES)
def test_importing_a_spec_module_loads_no_cdktf_and_starts_no_node(module):
    # GIVEN a fresh interpreter
    # WHEN it imports one spec module
    probe = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('cdktf', 'jsii')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    # THEN neither cdktf nor jsii (which starts Node) was imported
    assert done.stdout.strip() == "[]"


def _spec_classes() -> list[type[specs.Spec]]:
    found = {}
    for name in SPEC_MODULES:
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, type) and issubclass(value, specs.Spec) and value.__module__ == name:
                found[value.__qualname__] = value
    return list(found.values())


@pytest.mark.parametrize("cls", _spec_classes(), ids=lambda cls: cls.__qualname__)
def test_every_sdk_spec_says_what_it_is_and_every_field_states_its_default(cls):
    # GIVEN a spec class of the sdk
    # WHEN its own docstring and field descriptions are read
    undocumented = [
        name
        for name, field in cls.model_fields.items()
        if not re.search(r"default|required", field.description or "", re.I)
    ]
    # THEN it has a docstring and each field says its default (or that it is required)
    assert (cls.__dict__.get("__doc__") or "").strip(), f"{cls.__qualname__} has no docstring"
    assert undocumented == []
