"""Example renderer stacks (wired into examples/__init__.py): `python -m sdk synth` writes them to generated/."""

from blueprints.fractional_renderer import (
    FallbackSpec,
    FractionalGpuRenderer,
    FractionalRendererSpec,
    RenderSettings,
    RenderWorkerSpec,
)
from sdk.constructs.engine import Construct
from sdk.constructs.stack import GpuStack
from sdk.specs import AlarmsSpec, CapacitySpec, WarmPoolSpec

ACCOUNT = "123456789012"
REGION = "us-east-1"
WORKER_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/render-worker:0.1.0"


def validation_renderer(app: Construct) -> None:
    """5-view validation renders of uploaded 3MF models on 1/8 of an L4, one stopped host kept warm."""
    stack = GpuStack(app, "renderer-validation", region=REGION, tags={"team": "print-pipeline"})
    FractionalGpuRenderer(
        stack,
        "renderer",
        spec=FractionalRendererSpec(
            name="render-validate",
            capacity=CapacitySpec(instance_types=("g6f.xlarge",), warm_pool=WarmPoolSpec(min_size=1)),
            worker=RenderWorkerSpec(image=WORKER_IMAGE),
            max_workers=3,
            idle_minutes=15,
            alarms=AlarmsSpec(create_topic=True),
        ),
    )


def heavy_renderer(app: Construct) -> None:
    """Product shots on half an L4 (g6f.4xlarge); a whole-L4 g6.xlarge consumer takes over a long backlog."""
    stack = GpuStack(app, "renderer-heavy", region=REGION, tags={"team": "marketing-renders"})
    FractionalGpuRenderer(
        stack,
        "renderer",
        spec=FractionalRendererSpec(
            name="render-heavy",
            capacity=CapacitySpec(instance_types=("g6f.4xlarge",), root_volume_gib=150),
            worker=RenderWorkerSpec(image=WORKER_IMAGE),
            render=RenderSettings(views=("front", "left", "iso", "top"), size=2048, samples=256, timeout_seconds=1800),
            max_workers=4,
            idle_minutes=30,
            job_timeout_seconds=2400,
            fallback=FallbackSpec(instance_types=("g6.xlarge",), max_workers=2, after_minutes=10),
            alarms=AlarmsSpec(sns_topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:render-alerts"),
        ),
    )
