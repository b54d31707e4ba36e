"""Shared specs: image references follow the OCI/Docker grammar and regions are ones the catalog knows, so neither can
carry shell or Terraform syntax into a host script."""

import pytest
from pydantic import ValidationError

from sdk.specs import ContainerSpec, NetworkSpec, WarmPoolSpec, image_reference

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


@pytest.mark.parametrize("region", ["us-east-1; reboot", "US-EAST-1", "us-east-9", "$(reboot)"])
def test_a_region_the_catalog_does_not_know_is_refused_with_known_ones_as_the_fix(region):
    with pytest.raises(ValidationError) as error:
        NetworkSpec(region=region)
    assert error.value.errors()[0]["loc"] == ("region",) and "is not an AWS region. Fix: one of" in str(error.value)


def test_a_known_region_passes():
    assert NetworkSpec(region="eu-central-2").region == "eu-central-2"


@pytest.mark.parametrize(("pool", "stopped"), [({}, 1), ({"min_size": 2}, 2), ({"min_size": 1, "max_prepared": 3}, 3)])
def test_a_warm_pool_at_rest_holds_min_size_or_max_prepared_when_larger(pool, stopped):
    # max_group_prepared_capacity (0 unless max_prepared) minus 0 running, never below min_size (AWS PutWarmPool)
    assert WarmPoolSpec(**pool).stopped_hosts_at_rest == stopped
