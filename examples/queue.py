"""Example idle-stop queue: a ComfyUI-style image-edit worker that runs only while jobs wait."""

from blueprints.idle_stop_queue import IdleStopGpuQueue, IdleStopGpuQueueSpec
from sdk.constructs.engine import Construct
from sdk.constructs.stack import GpuStack
from sdk.gateway_spec import GatewaySpec
from sdk.job_specs import JobResourcesSpec
from sdk.specs import AlarmsSpec, CapacitySpec, ContainerSpec, SpotSpec

ACCOUNT = "123456789012"
REGION = "us-east-1"


def comfyui_queue(app: Construct) -> IdleStopGpuQueue:
    """Image edits on one L4 or A10G each: Spot for everything, 0 hosts after ~an hour without jobs."""
    stack = GpuStack(app, "comfyui-queue", region=REGION, tags={"team": "creative"})
    return IdleStopGpuQueue(
        stack,
        "comfyui",
        spec=IdleStopGpuQueueSpec(
            name="comfyui",
            region=REGION,
            capacity=CapacitySpec(
                instance_types=("g6.xlarge", "g5.xlarge"),
                spot=SpotSpec(on_demand_base=0, on_demand_percent_above_base=0),
                root_volume_gib=150,
            ),
            container=ContainerSpec(
                image=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/comfyui-worker:2025.06",
                gpu=1,
                gpu_memory_mib=16384,
                cpu=3072,
                memory_mib=12288,
                command=("python", "-m", "comfyui_worker"),
                environment={"COMFYUI_WORKFLOW": "img2img-sdxl", "HF_HUB_OFFLINE": "1"},
                scratch_paths=("/tmp", "/home/worker/.cache"),
            ),
            max_workers=4,
            idle_minutes=30,
            jobs=JobResourcesSpec(job_timeout_seconds=600),
            oldest_message_age_alarm_seconds=1200,
            alarms=AlarmsSpec(create_topic=True),
            # Placeholders that validate: your user pool's issuer and app client id (docs/job_gateway.md).
            gateway=GatewaySpec(
                jwt_issuer=f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_EXAMPLE00",
                jwt_audience=("example-app-client-id",),
            ),
        ),
    )


def build_app(app: Construct) -> None:
    comfyui_queue(app)
