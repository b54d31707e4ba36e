"""A Terraform stack with the AWS provider, a typed state backend, a pinned Terraform version and default tags."""

import warnings
from typing import TypeVar

from pydantic import ValidationError

from sdk.constructs.engine import AwsProvider, Construct, IConstruct, LocalBackend, S3Backend, TerraformStack
from sdk.constructs.structs import new
from sdk.specs import Spec, region_name
from sdk.specs.backend import LocalBackendSpec, S3BackendSpec

SpecT = TypeVar("SpecT", bound=Spec)

# S3 native state locking (use_lockfile) arrived in Terraform 1.10 (developer.hashicorp.com/terraform/language/
# backend/s3, "State Locking"); 2.0 may change the JSON syntax we emit.
REQUIRED_TERRAFORM = ">= 1.10, < 2.0"


class RegionMismatchError(ValueError):
    """A blueprint spec names another region than the stack it is added to."""


# A construct never moves: what these ask jsii once (a round trip each) is kept on the Python object.
_STACK, _PATH = "_gpu_blueprints_stack", "_gpu_blueprints_path"


def stack_of(scope: IConstruct) -> TerraformStack:
    """TerraformStack.of(scope), asked once per construct."""
    known: dict[str, object] = vars(scope)
    if _STACK not in known:
        known[_STACK] = TerraformStack.of(scope)
    return known[_STACK]  # type: ignore[return-value]


def path_ids(scope: IConstruct) -> tuple[str, ...]:
    """The construct ids from the root down to `scope` (its `node.path`, asked once per construct)."""
    known: dict[str, object] = vars(scope)
    if _PATH not in known:
        path = scope.node.path
        known[_PATH] = tuple(path.split("/")) if path else ()
    return known[_PATH]  # type: ignore[return-value]


def ids_below_stack(scope: IConstruct) -> tuple[str, ...]:
    """The construct ids from below its stack down to `scope` ('sdxl', 'renderer/primary' as a tuple)."""
    return path_ids(scope)[len(path_ids(stack_of(scope))) :]


def stack_region(scope: Construct) -> str | None:
    """The region of the GpuStack holding `scope` (None in a plain TerraformStack)."""
    return getattr(stack_of(scope), "region", None)


def required_stack_region(scope: Construct) -> str:
    region = stack_region(scope)
    if region is None:
        raise RegionMismatchError(
            f"{scope.node.path}: account-global names carry the region, which only a GpuStack knows. "
            "Fix: add it to a GpuStack(app, name, region=...)."
        )
    return region


def region_error(title: str, value: object, message: str) -> ValidationError:
    """One ValidationError on the field `region`, as a spec's own would read."""
    return ValidationError.from_exception_data(
        title, [{"type": "value_error", "loc": ("region",), "input": value, "ctx": {"error": ValueError(message)}}]
    )


def in_stack_region(scope: Construct, spec: SpecT) -> tuple[SpecT, str]:
    """The stack is the one source of truth for the region: a spec that leaves `region` unset (None) takes the
    stack's, and its region-dependent checks run again with it; a spec naming another region is refused."""
    region = required_stack_region(scope)
    given = getattr(spec, "region", None)
    if given not in (None, region):
        stack = stack_of(scope).node.id
        raise region_error(
            type(spec).__name__,
            given,
            f"{given!r} but stack {stack!r} deploys to {region!r}. Fix: leave region unset (the stack's), or "
            f"GpuStack(app, {stack!r}, region={given!r})",
        )
    given_fields = {name: getattr(spec, name) for name in spec.model_fields_set}  # validators read what was set
    with warnings.catch_warnings():  # the spec's warnings were shown when it was built
        warnings.simplefilter("ignore")
        return type(spec).model_validate({**given_fields, "region": region}), region


def is_destroyable(scope: Construct) -> bool:
    """Whether the stack holding `scope` was declared destroyable (GpuStack(destroyable=True))."""
    return bool(getattr(stack_of(scope), "destroyable", False))


def claim_name(scope: Construct, name: str) -> None:
    """Record a blueprint's spec.name on its stack: a second blueprint with the same name would create the same
    cluster, roles, log group, queue... and fail at apply with "already exists"."""
    stack = stack_of(scope)
    names: dict[str, str] = stack.__dict__.setdefault("_blueprint_names", {})
    if name in names:
        raise ValueError(
            f"name: {name!r} is already the name of {names[name]} in stack {stack.node.id!r}; AWS names derive from "
            f"it, so the two would collide at apply. Fix: give {scope.node.path} another spec name, e.g. "
            f"name={name + '-2'!r}."
        )
    names[name] = "/".join(path_ids(scope))


class GpuStack(TerraformStack):
    """`.provider`, `.region`, `.destroyable`, `.backend`. Every resource gets the default tags `managed-by`,
    `stack`, `owner` (when given) and `tags`. Terraform must be REQUIRED_TERRAFORM.

    `backend` (default LocalBackendSpec(): `terraform.<stack>.tfstate` beside the JSON) or S3BackendSpec(bucket=...)
    for shared state with S3 native locking.

    `destroyable=True` (default False) marks a non-production stack that `terraform destroy` removes in one run: no
    deletion protection on ALBs and job tables, buckets emptied on delete (force_destroy) and GPU Auto Scaling groups
    deleted with their scale-in-protected hosts (force_delete). Production stacks keep every guard."""

    def __init__(
        self,
        scope: Construct,
        name: str,
        *,
        region: str,
        tags: dict[str, str] | None = None,
        owner: str | None = None,
        destroyable: bool = False,
        backend: LocalBackendSpec | S3BackendSpec | None = None,
    ) -> None:
        try:
            region = region_name(region)
        except ValueError as error:
            raise region_error("GpuStack", region, str(error)) from None
        super().__init__(scope, name)
        vars(self)[_STACK] = self
        self.region = region
        self.destroyable = destroyable
        self.backend = backend or LocalBackendSpec()
        self._backend(name, self.backend)
        self.add_override("terraform.required_version", REQUIRED_TERRAFORM)
        owned = {"owner": owner} if owner is not None else {}
        self.provider = new(
            AwsProvider,
            self,
            "aws",
            region=region,
            default_tags=[{"tags": {"managed-by": "gpu-blueprints", "stack": name, **owned, **(tags or {})}}],
        )

    def _backend(self, name: str, spec: LocalBackendSpec | S3BackendSpec) -> None:
        if isinstance(spec, LocalBackendSpec):
            # cdktf's default local backend records an absolute path: pin a relative one so output is portable.
            LocalBackend(self, path=spec.path or f"terraform.{name}.tfstate")
            return
        S3Backend(
            self,
            bucket=spec.bucket,
            key=spec.key or f"{name}/terraform.tfstate",
            region=spec.region or self.region,
            encrypt=spec.encrypt,
            kms_key_id=spec.kms_key_id,
        )
        # cdktf 0.21's S3Backend predates use_lockfile (Terraform 1.10): set it on the emitted block.
        self.add_override("terraform.backend.s3.use_lockfile", spec.use_lockfile)
