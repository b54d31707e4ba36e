"""GpuStack: a blueprint whose spec names another region than its stack is refused by name."""

import json

import pytest
from pydantic import ValidationError

from sdk.constructs.engine import Construct, Testing
from sdk.constructs.stack import GpuStack, claim_name
from sdk.specs.backend import S3BackendSpec


def _queue_spec(**fields):
    from blueprints.idle_stop_queue import IdleStopGpuQueueSpec

    defaults = {"name": "edits", "capacity": {"instance_types": ["g6.xlarge"]}, "container": {"image": "ghcr.io/a/w:1"}}
    return IdleStopGpuQueueSpec(**{**defaults, **fields})


def _add_queue(region: str, spec) -> dict:
    from blueprints.idle_stop_queue import IdleStopGpuQueue

    stack = GpuStack(Testing.app(), "s", region=region)
    IdleStopGpuQueue(stack, "edits", spec=spec)
    return json.loads(Testing.synth(stack))


def test_a_spec_in_another_region_than_its_stack_is_refused_naming_region_and_the_fix():
    # GIVEN a spec that names us-east-1 WHEN it is added to a stack in eu-west-1
    with pytest.raises(ValidationError) as error:
        _add_queue("eu-west-1", _queue_spec(region="us-east-1"))
    # THEN one ValidationError names the field region, the stack's region and the fix
    (detail,) = error.value.errors()
    assert detail["loc"] == ("region",)
    assert detail["msg"] == (
        "Value error, 'us-east-1' but stack 's' deploys to 'eu-west-1'. Fix: leave region unset (the stack's), "
        "or GpuStack(app, 's', region='us-east-1')"
    )


def test_a_spec_without_a_region_takes_its_stacks_everywhere():
    # GIVEN a spec that leaves region unset WHEN it is added to a stack in eu-west-1
    tf = _add_queue("eu-west-1", _queue_spec())
    # THEN the provider, the task's AWS_REGION and the IAM names all say eu-west-1, and nothing says us-east-1
    (provider,) = tf["provider"]["aws"]
    (task,) = tf["resource"]["aws_ecs_task_definition"].values()
    environment = {e["name"]: e["value"] for e in json.loads(task["container_definitions"])[0]["environment"]}
    assert provider["region"] == environment["AWS_REGION"] == "eu-west-1"
    assert {role["name"] for role in tf["resource"]["aws_iam_role"].values()} >= {"edits-eu-west-1-task"}
    assert "us-east-1" not in json.dumps(tf["resource"])


def test_a_region_dependent_check_runs_with_the_stacks_region_when_the_spec_leaves_it_unset():
    # GIVEN a spec without a region whose container says AWS_REGION=us-east-1
    spec = _queue_spec(container={"image": "nginx:1", "environment": {"AWS_REGION": "us-east-1"}})
    # WHEN it is added to a stack in eu-west-1 THEN the check refuses it by field, with the stack's region
    with pytest.raises(ValidationError, match=r"container.environment: AWS_REGION='us-east-1' but the stack deploys"):
        _add_queue("eu-west-1", spec)


def test_a_stack_region_the_catalog_does_not_know_is_refused_with_the_fix():
    # GIVEN a region that would be written into host scripts and ARNs
    # WHEN a stack is made in it
    with pytest.raises(ValidationError) as error:
        GpuStack(Testing.app(), "bad", region="us-east-1; reboot")
    # THEN it is refused naming the field region, with the closest known regions as the fix
    assert error.value.errors()[0]["loc"] == ("region",)
    assert "'us-east-1; reboot' is not an AWS region. Fix: one of" in str(error.value)
    assert "us-east-1" in str(error.value).split("Fix:")[1]


def test_default_tags_reach_terraform_literally():
    # GIVEN stack tags holding Terraform template syntax
    stack = GpuStack(Testing.app(), "s", region="us-east-1", tags={"team": '${file("/etc/hostname")}%{ if 1 }'})
    # WHEN synthesized
    (provider,) = json.loads(Testing.synth(stack))["provider"]["aws"]
    # THEN Terraform reads them back as the user wrote them (escaped), not as an expression to evaluate at plan
    assert provider["default_tags"][0]["tags"]["team"] == '$${file("/etc/hostname")}%%{ if 1 }'


def synth_blueprints(*, destroyable: bool, alb: object = None) -> dict:
    """The SDXL example and a job queue in one stack."""
    import json

    from blueprints.alb_inference import AlbInferenceService
    from blueprints.idle_stop_queue import IdleStopGpuQueue, IdleStopGpuQueueSpec
    from examples import SDXL

    stack = GpuStack(Testing.app(), "s", region="us-east-1", destroyable=destroyable)
    AlbInferenceService(stack, "sdxl", spec=SDXL if alb is None else SDXL.model_copy(update={"alb": alb}))
    queue = IdleStopGpuQueueSpec(
        name="edits", capacity={"instance_types": ["g6.xlarge"]}, container={"image": SDXL.container.image}
    )
    IdleStopGpuQueue(stack, "edits", spec=queue)
    return json.loads(Testing.synth(stack))["resource"]


def destroy_guards(resources: dict) -> dict[str, set]:
    return {
        "alb_protected": {lb["enable_deletion_protection"] for lb in resources["aws_lb"].values()},
        "table_protected": {t["deletion_protection_enabled"] for t in resources["aws_dynamodb_table"].values()},
        "bucket_force_destroy": {b["force_destroy"] for b in resources["aws_s3_bucket"].values()},
        "asg_force_delete": {a.get("force_delete", False) for a in resources["aws_autoscaling_group"].values()},
    }


def test_a_destroyable_stack_drops_every_guard_that_would_block_terraform_destroy():
    # GIVEN an ALB service and a job queue WHEN synthesized in a destroyable stack and in a default one
    destroyable, default = synth_blueprints(destroyable=True), synth_blueprints(destroyable=False)
    # THEN the destroyable stack has no deletion protection, emptied buckets and force-deleted ASGs
    assert destroy_guards(destroyable) == {
        "alb_protected": {False},
        "table_protected": {False},
        "bucket_force_destroy": {True},
        "asg_force_delete": {True},
    }
    # AND a default stack keeps every guard
    assert destroy_guards(default) == {
        "alb_protected": {True},
        "table_protected": {True},
        "bucket_force_destroy": {False},
        "asg_force_delete": {False},
    }


def test_a_destroyable_stack_refuses_an_alb_that_explicitly_asks_for_deletion_protection():
    from examples import SDXL
    from sdk.specs.load_balancer import AlbSpec

    # GIVEN an ALB spec that says deletion_protection=True WHEN it is added to a destroyable stack
    alb = AlbSpec(certificate_arn=SDXL.alb.certificate_arn, allowed_cidrs=("0.0.0.0/0",), deletion_protection=True)
    # THEN the contradiction is refused by field name, with the fix
    with pytest.raises(ValueError, match=r"alb.deletion_protection: .*Fix:"):
        synth_blueprints(destroyable=True, alb=alb)


def test_a_second_blueprint_name_in_one_stack_is_refused_and_names_apart_or_in_other_stacks_pass():
    # GIVEN two stacks and a construct in each that claimed a name
    app = Testing.app()
    first, other = GpuStack(app, "one", region="us-east-1"), GpuStack(app, "two", region="us-east-1")
    claim_name(Construct(first, "a"), "svc")
    claim_name(Construct(other, "a"), "svc")
    claim_name(Construct(first, "b"), "svc-2")
    # WHEN another construct in the first stack claims the same name
    with pytest.raises(ValueError) as error:
        claim_name(Construct(first, "c"), "svc")
    # THEN it is refused by name, pointing at the holder, with the fix
    assert str(error.value).startswith("name: 'svc' is already the name of one/a in stack 'one'")
    assert "Fix: give one/c another spec name, e.g. name='svc-2'" in str(error.value)


def test_a_certificate_in_the_stacks_region_passes_when_the_spec_leaves_region_unset():
    from blueprints.alb_inference import AlbInferenceService, AlbInferenceSpec
    from examples import SDXL

    # GIVEN the SDXL example without a region, with its certificate and image in eu-west-1
    data = SDXL.model_dump(exclude={"region"})
    data["alb"]["certificate_arn"] = SDXL.alb.certificate_arn.replace("us-east-1", "eu-west-1")
    data["container"]["image"] = SDXL.container.image.replace("us-east-1", "eu-west-1")
    spec = AlbInferenceSpec.model_validate(data)
    # WHEN it is added to a stack in eu-west-1 (before, the spec's own us-east-1 default blamed the certificate)
    stack = GpuStack(Testing.app(), "eu", region="eu-west-1")
    AlbInferenceService(stack, "sdxl", spec=spec)
    # THEN it is accepted and the HTTPS listener uses that certificate
    listeners = json.loads(Testing.synth(stack))["resource"]["aws_lb_listener"].values()
    assert {listener.get("certificate_arn") for listener in listeners} >= {data["alb"]["certificate_arn"]}


def terraform_block(**stack_args: object) -> dict:
    stack = GpuStack(Testing.app(), "team-a", region="eu-west-1", **stack_args)  # type: ignore[arg-type]
    return json.loads(Testing.synth(stack))["terraform"]


def test_the_default_backend_is_a_relative_local_state_file():
    # GIVEN a stack with no backend WHEN synthesized THEN state stays in terraform.<stack>.tfstate beside the JSON
    assert terraform_block()["backend"] == {"local": {"path": "terraform.team-a.tfstate"}}


def test_an_s3_backend_locks_natively_encrypts_and_keys_the_state_by_stack():
    # GIVEN an S3 backend with only its bucket WHEN synthesized
    backend = terraform_block(backend=S3BackendSpec(bucket="acme-tf-state"))["backend"]
    # THEN state goes to <stack>/terraform.tfstate in the stack's region, encrypted, with S3 native locking
    assert backend == {
        "s3": {
            "bucket": "acme-tf-state",
            "key": "team-a/terraform.tfstate",
            "region": "eu-west-1",
            "encrypt": True,
            "use_lockfile": True,
        }
    }


def test_an_s3_backend_takes_its_own_key_region_and_kms_key():
    # GIVEN a state bucket in another region with a KMS key and a chosen key
    kms = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    spec = S3BackendSpec(bucket="acme-tf-state", key="gpu/team-a.tfstate", region="us-east-1", kms_key_id=kms)
    # WHEN synthesized THEN those reach the backend block as given
    s3 = terraform_block(backend=spec)["backend"]["s3"]
    assert (s3["key"], s3["region"], s3["kms_key_id"]) == ("gpu/team-a.tfstate", "us-east-1", kms)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"bucket": "Acme_State"}, "bucket"),
        ({"bucket": "acme", "key": "/abs/terraform.tfstate"}, "key"),
        ({"bucket": "acme", "key": "${var.env}/terraform.tfstate"}, "key"),
        ({"bucket": "acme", "region": "moon-1"}, "region"),
        ({"bucket": "acme", "encrypt": False, "kms_key_id": "arn:aws:kms:us-east-1:1:key/x"}, "backend.kms_key_id"),
    ],
)
def test_a_bad_s3_backend_is_refused_by_field_with_the_fix(fields, named):
    # GIVEN a backend field that Terraform would reject at init (or silently not encrypt with)
    # WHEN the spec is built THEN one ValidationError names the field and the fix
    with pytest.raises(ValidationError) as error:
        S3BackendSpec(**fields)
    assert error.value.error_count() == 1 and named in str(error.value) and "Fix:" in str(error.value)


def test_every_stack_pins_the_terraform_version_s3_native_locking_needs():
    # GIVEN any stack WHEN synthesized THEN Terraform older than 1.10 (no use_lockfile) or 2.x refuses to run it
    assert terraform_block()["required_version"] == ">= 1.10, < 2.0"


def test_an_owner_becomes_a_default_tag_and_is_left_out_when_not_given():
    # GIVEN a stack with an owner and one without WHEN synthesized
    def tags(**args: object) -> dict:
        stack = GpuStack(Testing.app(), "s", region="us-east-1", **args)  # type: ignore[arg-type]
        return json.loads(Testing.synth(stack))["provider"]["aws"][0]["default_tags"][0]["tags"]

    # THEN the owner is tagged on every resource beside managed-by and stack, and no empty owner tag appears
    assert tags(owner="ml-platform") == {"managed-by": "gpu-blueprints", "stack": "s", "owner": "ml-platform"}
    assert "owner" not in tags()


def test_terraform_takes_the_s3_native_lock_with_the_emitted_backend(aws_env, tmp_path):
    # GIVEN the terraform block of a stack with an S3 backend, its bucket on the suite's moto server
    import shutil
    import subprocess

    import boto3

    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    boto3.client("s3").create_bucket(Bucket="acme-tf-state-lock")
    block = terraform_block(backend=S3BackendSpec(bucket="acme-tf-state-lock", region="us-east-1"))
    # Without required_providers: no provider is installed offline, and the backend needs none.
    settings = {"backend": block["backend"], "required_version": block["required_version"]}
    (tmp_path / "main.tf.json").write_text(json.dumps({"terraform": settings}), encoding="utf-8")
    # moto as the S3 endpoint: partial backend configuration, the emitted block stays as it is
    endpoint = aws_env["AWS_ENDPOINT_URL"]
    (tmp_path / "moto.hcl").write_text(
        f'endpoints = {{ s3 = "{endpoint}" }}\nuse_path_style = true\nskip_credentials_validation = true\n'
        "skip_requesting_account_id = true\nskip_metadata_api_check = true\n",
        encoding="utf-8",
    )
    env = {**aws_env, "PATH": "/usr/local/bin:/usr/bin:/bin", "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    env |= {"TF_CLI_CONFIG_FILE": "/dev/null", "HOME": str(tmp_path)}

    def terraform(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        run = subprocess.run(
            ["terraform", *args, "-input=false", "-no-color"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            encoding="utf-8",
            timeout=180,
        )
        assert (run.returncode == 0) == ok, run.stdout[-2000:] + run.stderr[-2000:]
        return run

    # WHEN Terraform (1.10+) initialises it and applies
    terraform("init", "-backend-config=moto.hcl")
    terraform("apply", "-auto-approve")
    # THEN the state is at <stack>/terraform.tfstate, the lock object released after the run
    s3 = boto3.client("s3")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="acme-tf-state-lock")["Contents"]] == [
        "team-a/terraform.tfstate"
    ]
    # AND while another run holds the lock object, a second apply stops instead of writing the state
    s3.put_object(Bucket="acme-tf-state-lock", Key="team-a/terraform.tfstate.tflock", Body=b'{"ID": "other-run"}')
    assert "Error acquiring the state lock" in terraform("apply", "-auto-approve", "-lock-timeout=0s", ok=False).stderr


def test_the_stack_and_path_of_a_construct_are_asked_of_jsii_once():
    # GIVEN a construct below a stack, asked for its stack, path and region once
    from sdk.constructs.stack import ids_below_stack, is_destroyable, stack_of, stack_region
    from tests.jsii_requests import recorded_requests

    stack = GpuStack(Testing.app(), "s", region="eu-west-1", destroyable=True)
    child = Construct(Construct(stack, "a"), "b")
    first = (stack_of(child), ids_below_stack(child))
    # WHEN they are asked again, with every jsii kernel request recorded
    with recorded_requests() as requests:
        again = (stack_of(child), ids_below_stack(child), stack_region(child), is_destroyable(child))
    # THEN the answers are the same and came from Python: no round trip
    assert again == (*first, "eu-west-1", True)
    assert first == (stack, ("a", "b"))
    assert requests == []
