"""sdk.specs: secret-looking names in a plain container environment are warned about and pointed to `secrets`."""

import warnings

import pytest

from sdk.specs import ContainerSpec, SecretInEnvironmentWarning, SecretRef, looks_secret

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
