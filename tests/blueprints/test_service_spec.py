"""GpuServiceSpec: one host-bound check and one host derivation serve every GPU-service spec, each naming its field."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from blueprints.alb_inference_spec import AlbInferenceSpec
from blueprints.idle_stop_queue_spec import IdleStopGpuQueueSpec

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/svc:1"
CONTAINER = {"image": IMAGE, "gpu": 1, "port": 8080}
ALB = {
    "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "allowed_cidrs": ["10.0.0.0/8"],
}


@pytest.mark.parametrize(
    ("cls", "fields", "named"),
    [
        (AlbInferenceSpec, {"alb": ALB, "scaling": {"max_tasks": 3}}, "scaling.max_tasks is 3"),
        (IdleStopGpuQueueSpec, {"max_workers": 3}, "max_workers is 3"),
    ],
)
def test_a_host_cap_below_the_most_tasks_names_the_variants_own_field(cls, fields, named):
    # GIVEN a spec whose hosts (one task each) are capped at 2 while its most tasks is 3
    capacity = {"instance_types": ["g6.xlarge"], "max_hosts": 2}
    # WHEN it is validated
    with pytest.raises(ValidationError) as caught:
        cls.model_validate({"name": "svc-a", "capacity": capacity, "container": CONTAINER, **fields})
    # THEN the one error names the cap, the variant's field and the fix
    text = str(caught.value)
    assert "capacity.max_hosts: 2 hosts hold 2 tasks" in text and named in text and "max_hosts >= 3" in text, text


@pytest.mark.parametrize(
    ("cls", "fields"),
    [(AlbInferenceSpec, {"alb": ALB, "scaling": {"max_tasks": 3}}), (IdleStopGpuQueueSpec, {"max_workers": 3})],
)
def test_without_a_cap_both_variants_leave_room_for_a_rolling_deployment(cls, fields):
    spec = cls.model_validate(
        {"name": "svc-a", "capacity": {"instance_types": ["g6.xlarge"]}, "container": CONTAINER, **fields}
    )
    assert (spec.most_tasks, spec.tasks_per_host, spec.max_hosts) == (3, 1, 6)


SPEC_MODULES = [
    "blueprints/service_spec.py",
    "blueprints/alb_inference_spec.py",
    "blueprints/idle_stop_queue_spec.py",
    "blueprints/fractional_renderer_spec.py",
    "blueprints/render_worker_spec.py",
    "sdk/job_specs.py",
]


@pytest.mark.parametrize("path", SPEC_MODULES)
def test_a_spec_module_imports_no_cdktf_jsii_or_construct_code_itself(path):
    # GIVEN a spec module's source WHEN its imports are read
    tree = ast.parse((Path(__file__).parents[2] / path).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    # THEN none is cdktf, jsii, constructs, an sdk construct module or a blueprint's construct module
    engine = {m for m in imported if m.split(".")[0] in ("cdktf", "jsii", "constructs") or m.startswith("cdktf_")}
    construct_modules = {m for m in imported if m in ("blueprints.alb_inference", "blueprints.idle_stop_queue")}
    assert not engine and not construct_modules, (engine, construct_modules)
    assert not {m for m in imported if m.startswith("sdk.constructs")}


@pytest.mark.parametrize(
    "statement",
    [
        "import blueprints.alb_inference_spec, blueprints.idle_stop_queue_spec, blueprints.fractional_renderer_spec",
        "from blueprints.fractional_renderer_spec import RenderSettings, RenderWorkerSpec, FallbackSpec",
        "from blueprints import AlbInferenceSpec, IdleStopGpuQueueSpec, FractionalRendererSpec",
        "import sdk.job_specs, sdk.container_definition",
    ],
)
def test_importing_the_blueprint_specs_loads_no_cdktf_and_starts_no_node(statement):
    # GIVEN a fresh interpreter
    # WHEN it imports the blueprint specs the way a user or an editor does
    probe = f"{statement}; import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in ('cdktf', 'jsii')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    # THEN neither cdktf nor jsii (which starts Node) was imported
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "blueprints").glob("*.py")), ids=lambda p: p.name)
def test_no_blueprint_module_grows_past_about_300_lines(path):
    # GIVEN a module of the blueprints package WHEN its lines are counted
    lines = len(path.read_text(encoding="utf-8").splitlines())
    # THEN it stays a thin variant (issue 13: no blueprint file over ~300 lines)
    assert lines <= 300, f"{path.name}: {lines} lines"


def test_the_renderer_spec_names_stay_importable_from_where_users_import_them():
    # GIVEN the renderer's specs, split over two spec modules
    import blueprints
    import blueprints.fractional_renderer_spec as spec_module
    from blueprints.render_worker_spec import RenderSettings, RenderWorkerSpec

    # WHEN they are looked up where users import them
    # THEN each is the one class, from the package, the spec module and the blueprint module alike
    assert blueprints.FractionalRendererSpec is spec_module.FractionalRendererSpec
    assert (spec_module.RenderSettings, spec_module.RenderWorkerSpec) == (RenderSettings, RenderWorkerSpec)
    probe = "from blueprints.fractional_renderer import RenderSettings, RenderWorkerSpec, FallbackSpec; print('ok')"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300)
    assert done.stdout.strip() == "ok"
