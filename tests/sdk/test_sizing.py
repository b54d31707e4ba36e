"""Sizing math: the source system's formulas plus vCPU/memory bounds per host."""

import argparse

import pytest

from sdk import sizing
from sdk.catalog import CATALOG
from sdk.cli import build_parser


def _size_args(**overrides: object) -> argparse.Namespace:
    """The CLI's own parse of the issue's example, with `overrides` on top."""
    args = build_parser().parse_args(
        ["size", "--rps", "40", "--rps-per-task", "8", "--gpus-per-task", "1", "--instance", "g5.2xlarge"]
    )
    return argparse.Namespace(**{**vars(args), **overrides})


def test_registered_memory_keeps_5_percent_for_firmware_and_kernel_plus_the_agent_reservation():
    # GIVEN a g6f.large with 8 GiB nominal, the size of AWS's m4.large example (7985 MiB visible there)
    instance = CATALOG.get("g6f.large")
    # WHEN we ask how much ECS can place
    registered = sizing.registered_memory_mib(instance)
    # THEN it is 95% of nominal (twice the documented 2.5% loss) less the 256 MiB ECS_RESERVED_MEMORY
    assert registered == 7782 - 256
    assert registered < 7985 - 256


def test_a_partition_task_fits_exactly_once_on_its_partition():
    # GIVEN an eighth-of-an-L4 host and a task asking for the same eighth
    instance = CATALOG.get("g6f.large")
    # WHEN tasks per host are computed
    per_host = sizing.tasks_per_host(instance, gpus_per_task=0.125, cpu_units_per_task=1024, memory_mib_per_task=4096)
    # THEN exactly one fits, bound by the GPU partition
    assert per_host == 1
    assert (
        sizing.binding_resource(instance, gpus_per_task=0.125, cpu_units_per_task=1024, memory_mib_per_task=4096)
        == "gpu"
    )


def test_a_task_larger_than_the_partition_fits_zero_times():
    # GIVEN a half-L4 task on an eighth-L4 host
    # WHEN tasks per host are computed
    per_host = sizing.tasks_per_host(
        CATALOG.get("g6f.xlarge"), gpus_per_task=0.5, cpu_units_per_task=0, memory_mib_per_task=0
    )
    # THEN none fit
    assert per_host == 0


@pytest.mark.parametrize(
    ("instance_type", "gpus", "cpu", "memory", "expected", "binding"),
    [
        ("g5.12xlarge", 1, 1024, 4096, 4, "gpu"),  # 4 GPUs, 48 vCPU: GPUs run out first
        ("g5.12xlarge", 1, 16384, 4096, 3, "cpu"),  # 48 vCPU / 16 vCPU per task
        ("g5.12xlarge", 1, 1024, 65536, 2, "memory"),  # 192 GiB registers ~186.9 GiB: 2 x 64 GiB
        ("g6.48xlarge", 2, 0, 0, 4, "gpu"),  # 8 GPUs / 2 per task, cpu/memory unlimited
    ],
)
def test_tasks_per_host_is_the_minimum_over_gpu_cpu_and_memory(instance_type, gpus, cpu, memory, expected, binding):
    # GIVEN a multi-GPU host and a task shape
    instance = CATALOG.get(instance_type)
    # WHEN tasks per host and the binding resource are computed
    per_host = sizing.tasks_per_host(instance, gpus_per_task=gpus, cpu_units_per_task=cpu, memory_mib_per_task=memory)
    # THEN the tightest resource decides
    assert per_host == expected
    assert (
        sizing.binding_resource(instance, gpus_per_task=gpus, cpu_units_per_task=cpu, memory_mib_per_task=memory)
        == binding
    )


@pytest.mark.parametrize(
    ("peak", "per_task", "headroom", "expected"),
    [(40, 8, 0, 5), (41, 8, 0, 6), (40, 8, 20, 6), (0, 8, 0, 0), (30, 0.1, 0, 300)],
)
def test_tasks_for_load_is_the_ceiling_of_peak_over_rps_per_task(peak, per_task, headroom, expected):
    # GIVEN a peak, a per-task rate and a headroom
    # WHEN tasks are computed
    # THEN it is ceil(peak x (1 + headroom) / per task), with no float drift (30 / 0.1 is 300, not 301)
    assert sizing.tasks_for_load(peak, per_task, headroom) == expected


def test_hosts_for_tasks_rounds_up_and_refuses_zero_tasks_per_host():
    # GIVEN 5 tasks at 2 per host, and a shape that fits nowhere
    # WHEN hosts are computed
    # THEN 5 tasks need 3 hosts, and 0 per host is an error that names the fix
    assert sizing.hosts_for_tasks(5, 2) == 3
    with pytest.raises(ValueError, match=r"per_host.*larger instance type"):
        sizing.hosts_for_tasks(5, 0)


def test_plan_reproduces_the_source_sizing_example_with_a_latency_split():
    # GIVEN the example: 40 rps, 8 rps per task, 1 GPU per task on g5.2xlarge, p95 250 ms
    # WHEN a plan is made
    result = sizing.plan(peak_rps=40, rps_per_task=8, gpus_per_task=1, instance_type="g5.2xlarge", p95_budget_ms=250)
    # THEN tasks = ceil(40/8) = 5, hosts = ceil(5 x 1 / 1) = 5 (10 for a 200% deployment), and the ALB target
    # is the source's 8 x 60 = 480 scaled to the blueprint's 70% utilisation (480 at 100%)
    assert (result.tasks, result.tasks_per_host, result.hosts, result.asg_max_hosts) == (5, 1, 5, 10)
    assert result.requests_per_target_per_minute == 336
    full = sizing.plan(
        peak_rps=40, rps_per_task=8, gpus_per_task=1, instance_type="g5.2xlarge", target_utilization_percent=100
    )
    assert full.requests_per_target_per_minute == 480
    assert result.binding_resource == "gpu"
    assert result.latency_budget is not None
    assert (
        result.latency_budget.network_ms,
        result.latency_budget.queueing_ms,
        result.latency_budget.inference_ms,
    ) == (25, 50, 175)


def test_plan_on_a_four_gpu_host_packs_tasks():
    # GIVEN 4 GPUs per host and 1 GPU per task
    # WHEN 10 tasks are planned
    result = sizing.plan(peak_rps=100, rps_per_task=10, gpus_per_task=1, instance_type="g6.12xlarge")
    # THEN hosts = ceil(10 x 1 / 4) = 3, as in the source formula
    assert (result.tasks, result.tasks_per_host, result.hosts) == (10, 4, 3)


def test_plan_names_the_field_for_a_non_positive_gpu_share():
    # GIVEN a task with no GPU
    # WHEN a plan is made
    # THEN the error names gpus_per_task and the fix
    with pytest.raises(ValueError, match=r"gpus_per_task.*Fix"):
        sizing.plan(peak_rps=1, rps_per_task=1, gpus_per_task=0, instance_type="g5.xlarge")


def test_run_size_prints_the_bounds(capsys):
    # GIVEN the CLI arguments of the example
    # WHEN `python -m sdk size` runs
    code = sizing.run_size(_size_args(p95_budget_ms=250.0))
    out = capsys.readouterr().out
    # THEN it exits 0 and prints the service max, the ASG max, the ALB target and the split
    assert code == 0
    assert "service min 1, max 5" in out
    assert "5 at peak  -> ASG max 10 (200% deployments)" in out
    assert "8 rps x 60 x 70% = 336 requests per target per minute" in out
    assert "inference 175 ms" in out


def test_run_size_reports_an_unknown_instance_with_the_families(capsys):
    # GIVEN an instance type not in the catalog
    # WHEN `python -m sdk size` runs
    code = sizing.run_size(_size_args(instance="g9.xlarge"))
    out = capsys.readouterr().out
    # THEN it exits 2 and lists the families to choose from, without a traceback
    assert code == 2
    assert "g9.xlarge" in out and "g6f" in out and "Traceback" not in out


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"gpus_per_task": 0.5}, "gpus_per_task: fractional GPU 0.5 only places on fractional sizes"),
        ({"rps": 0.0}, "peak_rps: 0 must be > 0"),
        ({"cpu": 65536}, "0 tasks fit on one host"),
    ],
)
def test_run_size_refuses_what_the_blueprints_would_refuse(capsys, overrides, message):
    # GIVEN a shape the blueprints reject WHEN `python -m sdk size` runs THEN it exits 2 with the reason
    assert sizing.run_size(_size_args(**overrides)) == 2
    assert message in capsys.readouterr().out
