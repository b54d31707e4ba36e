"""GpuMetricsSpec is a real Spec: frozen, extra fields refused, errors that name the field and the fix."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from sdk.gpu_metrics import GpuMetricsSpec as ReExported
from sdk.specs import Spec
from sdk.specs.gpu_metrics import GpuMetricsSpec


def test_the_gpu_metrics_spec_is_a_spec_and_is_re_exported_where_it_was():
    # GIVEN the spec's home and its old import path WHEN both are read
    # THEN they are one class, built on Spec like every other spec
    assert ReExported is GpuMetricsSpec
    assert issubclass(GpuMetricsSpec, Spec)


def test_a_gpu_metrics_spec_cannot_be_changed_after_it_is_made():
    # GIVEN a valid spec
    spec = GpuMetricsSpec(namespace="Team/Gpu")
    # WHEN a field is assigned THEN pydantic refuses (frozen)
    with pytest.raises(ValidationError):
        spec.namespace = "Other"  # type: ignore[misc]


def test_an_unknown_field_and_a_bad_namespace_are_reported_together_by_name():
    # GIVEN a misspelt field and an AWS namespace
    # WHEN the spec is validated
    with pytest.raises(ValidationError) as caught:
        GpuMetricsSpec.model_validate({"namespace": "AWS/EC2", "interval": 30})
    # THEN one error names both fields, and the namespace problem says how to fix it
    text = str(caught.value)
    assert caught.value.error_count() == 2, text
    assert "interval\n  Extra inputs are not permitted" in text
    assert "namespace\n" in text and "Fix: letters, digits" in text


@pytest.mark.parametrize("module", ["sdk.gpu_metrics", "sdk.specs.gpu_metrics", "sdk.specs"])
def test_any_of_the_gpu_metrics_modules_imports_first_without_a_cycle_or_cdktf(module):
    # GIVEN a fresh interpreter WHEN it imports one of the modules first
    probe = f"import {module}, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in ('cdktf', 'jsii')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    # THEN the import succeeds and loads no cdktf
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
