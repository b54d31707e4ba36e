"""GatewaySpec: auth by name, issuer/audience, scopes, domain; one error naming the field; no cdktf import."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from sdk.gateway_spec import GatewaySpec

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({}, "jwt_issuer"),
        ({"jwt_issuer": "http://insecure.example.com", "jwt_audience": ("a",)}, "jwt_issuer"),
        ({"jwt_issuer": ISSUER}, "jwt_audience"),
        ({"auth": "none", "jwt_issuer": None}, "auth"),
        ({"auth": "iam", "jwt_issuer": ISSUER}, "jwt_issuer"),
        ({"auth": "iam", "domain_name": "jobs.example.com"}, "certificate_arn"),
        ({"auth": "iam", "submit_scope": "two words"}, "submit_scope"),
    ],
)
def test_a_bad_gateway_spec_is_one_error_naming_the_field_and_the_fix(spec, field):
    with pytest.raises(ValidationError) as error:
        GatewaySpec(**spec)
    assert error.value.error_count() == 1
    assert field in str(error.value) and ("Fix" in str(error.value) or "Input should be" in str(error.value))


def test_anonymous_access_only_by_its_explicit_name():
    spec = GatewaySpec(auth="none_i_understand")
    assert spec.settings().allow_anonymous is True
    assert GatewaySpec(auth="iam").settings().allow_anonymous is False


def test_the_spec_module_imports_without_cdktf():
    # GIVEN a fresh interpreter WHEN it imports the spec THEN neither cdktf nor constructs is loaded
    code = "import sys, sdk.gateway_spec; print(sorted(m for m in ('cdktf', 'constructs') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
