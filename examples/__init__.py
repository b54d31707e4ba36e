"""The bundled example app: `python -m sdk synth` writes these stacks to generated/."""

from blueprints.alb_inference import AlbInferenceService, AlbInferenceSpec, InferenceScalingSpec
from blueprints.deployment_spec import DeploymentSpec
from examples.queue import comfyui_queue
from examples.renderer import heavy_renderer, validation_renderer
from sdk.constructs.engine import Construct
from sdk.constructs.stack import GpuStack
from sdk.grants import DynamoDbItemGrant, S3PutGrant
from sdk.specs import (
    AlarmsSpec,
    CapacitySpec,
    ContainerSpec,
    HealthCheckSpec,
    HuggingFaceModelSource,
    NetworkSpec,
    S3ModelSource,
    SpotSpec,
)
from sdk.specs.load_balancer import AlbSpec

ACCOUNT = "123456789012"
REGION = "us-east-1"


# A module-level spec, so a test can synthesize a changed copy and review it against generated/.
SDXL = AlbInferenceSpec(
    name="sdxl",
    # A NAT per AZ (~$37/month more, <2%): hosts in one AZ keep pulling images and writing outputs when the other
    # AZ (and a single NAT in it) fails, and egress does not cross AZs (docs/alb_inference.md).
    network=NetworkSpec(nat_gateways="per_az"),
    capacity=CapacitySpec(
        instance_types=("g5.2xlarge", "g6.2xlarge", "g4dn.2xlarge"),
        spot=SpotSpec(on_demand_base=1, on_demand_percent_above_base=0),
    ),
    container=ContainerSpec(
        image=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sdxl-server:1.4.2",
        port=8080,
        gpu=1,
        gpu_memory_mib=12288,
        cpu=4096,
        memory_mib=24576,
        shared_memory_mib=4096,  # torch workers share tensors via /dev/shm (Docker: 64 MiB)
        health_check=HealthCheckSpec(command=("CMD-SHELL", "curl -fsS http://localhost:8080/healthz || exit 1")),
        environment={"TORCH_DTYPE": "float16"},
        # A public, ungated model pinned to a commit, fetched over the NAT this VPC has anyway; the host-shared
        # cache keeps the ~7 GiB fp16 download for the next task on the host (restarts, deployments).
        model_source=HuggingFaceModelSource(
            repo_id="stabilityai/stable-diffusion-xl-base-1.0",
            revision="462165984030d82259a11f4367a4eed129e94a7b",
            size_gib=7,
        ),
    ),
    scaling=InferenceScalingSpec(min_tasks=1, max_tasks=6, rps_per_task=0.5, p95_latency_budget_ms=8000),
    alb=AlbSpec(
        certificate_arn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0f5c8a3e-1111-4d2b-9a9e-5d1e2c3b4a55",
        allowed_cidrs=("0.0.0.0/0",),
        health_check_path="/healthz",
    ),
    grants=(S3PutGrant(arn="arn:aws:s3:::sdxl-generated-images", prefix="outputs/"),),
    alarms=AlarmsSpec(create_topic=True),
    # The green fleet takes all traffic at once and blue stays up 15 minutes for an instant rollback; the QA
    # network tries green on 8443 first. Both fleets run meanwhile: up to 12 hosts (docs/alb_inference.md).
    deployment=DeploymentSpec(
        strategy="blue_green", bake_time_minutes=15, test_listener_port=8443, test_listener_cidrs=("198.51.100.0/24",)
    ),
)


def sdxl_public(app: Construct, spec: AlbInferenceSpec = SDXL) -> None:
    """Public SDXL-style image generation: Spot above one on-demand host, three GPU types to fall back on."""
    stack = GpuStack(app, "sdxl-public", region=REGION, tags={"team": "imaging"})
    AlbInferenceService(stack, "sdxl", spec=spec)


def llm_internal(app: Construct) -> None:
    """Internal LLM API in private subnets, no NAT: images, logs and AWS APIs over VPC endpoints."""
    stack = GpuStack(app, "llm-internal", region=REGION, tags={"team": "platform"})
    AlbInferenceService(
        stack,
        "llm",
        spec=AlbInferenceSpec(
            name="llm-internal",
            network=NetworkSpec(
                cidr_block="10.60.0.0/16",
                az_count=3,
                nat_gateways="none",
                vpc_endpoints=(
                    "ecr.api",
                    "ecr.dkr",
                    "s3",
                    "logs",
                    "sts",
                    "ssm",
                    "ssmmessages",
                    "ecs",
                    "ecs-agent",
                    "ecs-telemetry",
                    "dynamodb",
                    "monitoring",
                ),
            ),
            capacity=CapacitySpec(instance_types=("g6e.2xlarge",), min_hosts=1),
            container=ContainerSpec(
                image=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/vllm-server:0.9.1",
                port=8000,
                gpu=1,
                gpu_memory_mib=40960,
                cpu=6144,
                memory_mib=49152,
                shared_memory_mib=8192,  # vLLM and NCCL use /dev/shm; Docker's 64 MiB makes them fail at start
                health_check=HealthCheckSpec(command=("CMD-SHELL", "curl -fsS http://localhost:8000/health || exit 1")),
                # No NAT by design: the gated Hub repo is mirrored to the platform's model bucket (KMS-encrypted)
                # and read over the s3 gateway endpoint; bf16 safetensors of an 8B model are ~15 GiB.
                model_source=S3ModelSource(
                    uri=f"s3://llm-models-{ACCOUNT}/meta-llama/Llama-3.1-8B-Instruct/",
                    kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/4f1c2d3e-3333-4a5b-9c8d-7e6f5a4b3c2d",
                    size_gib=15,
                ),
            ),
            scaling=InferenceScalingSpec(
                min_tasks=2, max_tasks=4, rps_per_task=4, p95_latency_budget_ms=2500, gpu_utilisation_target=80
            ),
            alb=AlbSpec(
                certificate_arn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/7a1b2c3d-2222-4e5f-8a9b-0c1d2e3f4a5b",
                internal=True,
                allowed_cidrs=("10.0.0.0/8",),
                health_check_path="/health",
            ),
            grants=(DynamoDbItemGrant(arn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/llm-sessions"),),
            alarms=AlarmsSpec(sns_topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:platform-alerts"),
            # 10% of requests on the new model for 10 minutes, then all of it; rolled back on its own alarms.
            deployment=DeploymentSpec(
                strategy="canary", canary_percent=10, canary_bake_minutes=10, bake_time_minutes=10
            ),
        ),
    )


def build_app(app: Construct) -> None:
    sdxl_public(app)
    llm_internal(app)
    comfyui_queue(app)
    validation_renderer(app)
    heavy_renderer(app)
