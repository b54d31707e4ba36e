"""Cost estimate: every figure checked against a hand computation from the catalog and the price file."""

import json
from pathlib import Path
from typing import Any

import pytest

from sdk.catalog import CATALOG
from sdk.cost import estimate_stack, load_prices, root_volume_gb
from sdk.hints import HINTS_KEY, read_hints
from sdk.tfjson import STACK_FILE

HOURS = 730
GENERATED = Path(__file__).resolve().parents[2] / "generated"


def _hints(**capacity_overrides: Any) -> dict[str, Any]:
    """Blueprint hints with one GPU capacity entry: g5.xlarge, 1/2/4 hosts, 1 on-demand base, 50% Spot."""
    capacity = {
        "asg_address": "aws_autoscaling_group.gpu",
        "instance_types": ["g5.xlarge", "g6.xlarge"],
        "min_hosts": 1,
        "typical_hosts": 2,
        "max_hosts": 4,
        "gpus_per_task": 1,
        "tasks_per_host": 1,
        "on_demand_base": 1,
        "spot_percent": 50,
    }
    return {
        "blueprint": "AlbInferenceService",
        "gpu_capacity": [{**capacity, **capacity_overrides}],
        "log_gb_per_month": 5,
    }


def _stack(hints: dict[str, Any] | None = None) -> dict[str, Any]:
    """A small stack shaped like cdktf output: the resource types the blueprints emit."""
    subnets = ["${aws_subnet.private_a.id}", "${aws_subnet.private_b.id}"]
    return {
        "//": {HINTS_KEY: {"svc": hints or _hints()}},
        "resource": {
            "aws_eip": {"nat_a": {"domain": "vpc"}, "nat_b": {"domain": "vpc"}},
            "aws_nat_gateway": {
                "a": {"allocation_id": "${aws_eip.nat_a.id}"},
                "b": {"allocation_id": "${aws_eip.nat_b.id}"},
            },
            "aws_lb": {
                "alb": {"internal": False, "subnets": ["${aws_subnet.public_a.id}", "${aws_subnet.public_b.id}"]}
            },
            "aws_vpc_endpoint": {
                "ecr_api": {"vpc_endpoint_type": "Interface", "subnet_ids": subnets},
                "logs": {"vpc_endpoint_type": "Interface", "subnet_ids": subnets},
                "s3": {"vpc_endpoint_type": "Gateway"},
            },
            "aws_launch_template": {
                "gpu": {
                    "block_device_mappings": [
                        {"device_name": "/dev/xvda", "ebs": {"volume_size": 100, "volume_type": "gp3"}}
                    ]
                }
            },
            "aws_autoscaling_group": {
                "gpu": {
                    "mixed_instances_policy": {
                        "launch_template": {
                            "launch_template_specification": {"launch_template_id": "${aws_launch_template.gpu.id}"}
                        }
                    }
                }
            },
            "aws_cloudwatch_log_group": {"svc": {"retention_in_days": 30}},
            "aws_cloudwatch_metric_alarm": {
                "running": {"metric_name": "RunningTaskCount"},
                "error_rate": {
                    "metric_query": [
                        {"id": "e", "metric": {"metric_name": "5xx"}},
                        {"id": "r", "metric": {"metric_name": "RequestCount"}},
                        {"id": "rate", "expression": "e / r"},
                    ]
                },
            },
            "aws_cloudwatch_dashboard": {"svc": {"dashboard_name": "svc"}},
            "aws_sqs_queue": {"jobs": {}, "dlq": {}},
            "aws_dynamodb_table": {"jobs": {"hash_key": "job_id"}},
            "aws_s3_bucket": {"outputs": {}},
        },
    }


def _by_component(tf_json: dict[str, Any]) -> dict[str, tuple[float, float, float]]:
    estimate = estimate_stack(tf_json)
    return {line.component: (line.min_usd, line.typical_usd, line.max_usd) for line in estimate.lines}


def test_gpu_hosts_are_priced_at_min_typical_max_with_the_spot_share_discounted():
    # GIVEN g5.xlarge hosts 1 / 2 / 4, one on-demand base host and 50% Spot above it at 60% off
    price = CATALOG.get("g5.xlarge").on_demand_usd_per_hour
    # WHEN the stack is estimated
    gpu = _by_component(_stack())["GPU hosts (aws_autoscaling_group.gpu)"]
    # THEN 1 host is on-demand; 2 hosts = 1.5 on-demand + 0.5 Spot x 0.4; 4 hosts = 2.5 + 1.5 x 0.4
    assert gpu == pytest.approx((1 * price * HOURS, 1.7 * price * HOURS, 3.1 * price * HOURS), abs=0.01)
    assert gpu[0] == pytest.approx(734.38, abs=0.01)


def test_root_volumes_come_from_the_launch_template_the_asg_references():
    # GIVEN an ASG whose mixed-instances policy points at a launch template with a 100 GB root
    stack = _stack()
    # WHEN root volume GB and the EBS line are computed
    # THEN 100 GB per host at $0.08/GB-month, for 1 / 2 / 4 hosts
    assert root_volume_gb(stack, "aws_autoscaling_group.gpu") == 100
    assert _by_component(stack)["EBS root volumes (aws_autoscaling_group.gpu)"] == pytest.approx((8, 16, 32))


def test_network_lines_match_hand_computed_figures():
    # GIVEN 2 NAT gateways (+2 EIPs), an internet-facing ALB over 2 subnets, 2 interface endpoints in 2 AZs
    lines = _by_component(_stack())
    # WHEN the estimate is read
    # THEN ALB = 0.0225 x 730 + LCUs (0/1/5 x 0.008 x 730)
    assert lines["Application Load Balancers"] == pytest.approx((16.425, 22.265, 45.625), abs=0.01)
    # AND NAT = 2 x (0.045 x 730 + 0/50/500 GB x 0.045)
    assert lines["NAT gateways"] == pytest.approx((65.7, 70.2, 110.7), abs=0.01)
    # AND 4 public IPv4 addresses (2 EIPs + 2 ALB nodes) at 0.005 x 730
    assert lines["Public IPv4 addresses"] == pytest.approx((14.6, 14.6, 14.6), abs=0.01)
    # AND 4 endpoint-AZs at 0.01 x 730, plus 0/10/100 GB per endpoint at 0.01; the gateway endpoint is free
    assert lines["Interface VPC endpoints"] == pytest.approx((29.2, 29.4, 31.2), abs=0.01)


def test_small_services_use_the_stated_usage_assumptions():
    # GIVEN 2 queues, 1 table, 1 bucket, 1 log group with a 5 GB hint and 3 alarm metrics
    lines = _by_component(_stack())
    # WHEN the estimate is read
    # THEN each line is count x assumed usage x unit price
    assert lines["SQS queues"][1] == pytest.approx(2 * 0.40)
    assert lines["DynamoDB tables (on-demand)"][1] == pytest.approx(0.625 + 0.125 + 0.25)
    assert lines["S3 buckets"][1] == pytest.approx(10 * 0.023 + 100 * 0.005 + 1000 * 0.0004, abs=0.01)
    assert lines["CloudWatch Logs"][1] == pytest.approx(5 * (0.50 + 0.03))
    assert lines["CloudWatch alarms"][1] == pytest.approx(3 * 0.10)


def test_totals_are_the_sum_of_the_lines():
    # GIVEN an estimate
    estimate = estimate_stack(_stack())
    # WHEN totals are read
    # THEN each is the rounded sum of its column
    assert estimate.typical_monthly_usd == round(sum(line.typical_usd for line in estimate.lines), 2)
    assert estimate.min_monthly_usd < estimate.typical_monthly_usd < estimate.max_monthly_usd


def test_an_idle_stop_queue_pays_typical_hosts_only_for_its_duty_cycle_and_warm_pool_volumes_always():
    # GIVEN a scale-from-zero fractional renderer: 0 / 1 / 2 hosts, running 25% of the month, 1 warm-pool host
    hints = _hints(
        instance_types=["g6f.xlarge"],
        min_hosts=0,
        typical_hosts=1,
        max_hosts=2,
        on_demand_base=0,
        spot_percent=0,
        duty_cycle=0.25,
        warm_pool_hosts=1,
        gpus_per_task=0.125,
    )
    stack = _stack(hints)
    stack["resource"]["aws_autoscaling_group"]["gpu"]["warm_pool"] = {"min_size": 1, "max_group_prepared_capacity": 0}
    lines = _by_component(stack)
    price = CATALOG.get("g6f.xlarge").on_demand_usd_per_hour
    # WHEN the GPU and EBS lines are read
    # THEN typical GPU = 0.25 x 1 host, min is zero, and the stopped warm host keeps paying its volume
    assert lines["GPU hosts (aws_autoscaling_group.gpu)"] == pytest.approx(
        (0, 0.25 * price * HOURS, 2 * price * HOURS), abs=0.01
    )
    assert lines["EBS root volumes (aws_autoscaling_group.gpu)"] == pytest.approx((8, 10, 24))


@pytest.mark.parametrize(
    ("pool", "stopped"),
    [
        ({"min_size": 1, "max_group_prepared_capacity": 0}, (1, 1, 1)),
        ({"min_size": 1, "max_group_prepared_capacity": -1}, (6, 5, 4)),
        ({"min_size": 1, "max_group_prepared_capacity": 3}, (3, 2, 1)),
    ],
)
def test_warm_pool_volumes_are_priced_from_the_pool_the_stack_emits(pool, stopped):
    # GIVEN an ASG of max 6 hosts with a warm pool as emitted (0: exactly min_size; -1: max size minus running)
    hints = _hints(min_hosts=0, typical_hosts=1, max_hosts=2, on_demand_base=0, spot_percent=0)
    stack = _stack(hints)
    stack["resource"]["aws_autoscaling_group"]["gpu"] |= {"max_size": 6, "warm_pool": pool}
    # WHEN the EBS line is read for 0 / 1 / 2 running hosts
    ebs = _by_component(stack)["EBS root volumes (aws_autoscaling_group.gpu)"]
    # THEN each column pays running + the stopped hosts that pool keeps, 100 GB each at $0.08/GB-month
    assert ebs == pytest.approx(
        tuple((running + pooled) * 8 for running, pooled in zip((0, 1, 2), stopped, strict=True))
    )


def test_assumptions_list_every_price_source_and_flag_unverified_gpu_prices(monkeypatch):
    # GIVEN a stack on a GPU type whose price could not be verified
    entry = CATALOG.instances["g6f.xlarge"]
    monkeypatch.setitem(CATALOG.instances, "g6f.xlarge", entry.model_copy(update={"price_verified": False}))
    hints = _hints(instance_types=["g6f.xlarge"], on_demand_base=0, spot_percent=0, gpus_per_task=0.125)
    estimate = estimate_stack(_stack(hints))
    # WHEN the assumptions and the GPU line are read
    text = "\n".join(estimate.assumptions)
    # THEN every price key is listed with its source, and the GPU line says its price is unverified
    for key in load_prices().price:
        assert key in text
    assert "unverified price" in estimate.lines[0].assumption


def test_an_asg_without_a_hint_is_named_as_not_priced():
    # GIVEN a stack with an ASG but no blueprint hints
    stack = _stack()
    stack["//"] = {}
    # WHEN it is estimated
    estimate = estimate_stack(stack)
    # THEN no GPU line exists and the assumptions name the unpriced ASG
    assert not [line for line in estimate.lines if line.component.startswith("GPU hosts")]
    assert any("aws_autoscaling_group.gpu has no blueprint hint" in note for note in estimate.assumptions)


def test_an_empty_stack_costs_nothing():
    # GIVEN a stack with no resources
    # WHEN it is estimated
    estimate = estimate_stack({})
    # THEN there are no lines and the totals are zero
    assert estimate.lines == ()
    assert estimate.typical_monthly_usd == 0


@pytest.mark.skipif(not list(GENERATED.glob(f"*/{STACK_FILE}")), reason="generated/ stacks not synthesized yet")
@pytest.mark.parametrize("path", sorted(GENERATED.glob(f"*/{STACK_FILE}")), ids=lambda p: p.parent.name)
def test_generated_stacks_price_their_gpu_hosts_from_the_catalog(path):
    # GIVEN a committed example stack
    tf_json = json.loads(path.read_text(encoding="utf-8"))
    estimate = estimate_stack(tf_json)
    # WHEN each hinted ASG's min line is recomputed by hand (min hosts on-demand up to the base)
    for hints in read_hints(tf_json).values():
        for hint in hints.gpu_capacity:
            price = CATALOG.get(hint.instance_types[0]).on_demand_usd_per_hour
            spot = max(hint.min_hosts - hint.on_demand_base, 0) * hint.spot_percent / 100
            expected = price * HOURS * ((hint.min_hosts - spot) + spot * 0.4)
            component = f"GPU hosts ({hint.asg_address})"
            line = next(line for line in estimate.lines if line.component == component)
            # THEN the estimate agrees to the cent
            assert line.min_usd == pytest.approx(expected, abs=0.01)
    assert estimate.typical_monthly_usd > 0


def _in_region(region: str, instance_type: str) -> dict[str, Any]:
    stack = _stack(_hints(instance_types=[instance_type], on_demand_base=4, spot_percent=0))
    return stack | {"provider": {"aws": [{"region": region}]}}


def test_gpu_hosts_are_priced_at_the_stacks_regional_price():
    # GIVEN g5.xlarge hosts (all on-demand) in a stack whose provider deploys to eu-central-1
    estimate = estimate_stack(_in_region("eu-central-1", "g5.xlarge"))
    # WHEN the GPU line is read
    line = next(line for line in estimate.lines if line.component.startswith("GPU hosts"))
    # THEN it uses eu-central-1's $1.258/h (regional_prices.toml), not us-east-1's $1.006
    assert line.min_usd == pytest.approx(1.258 * HOURS, abs=0.01)
    assert "g5.xlarge at $1.258/h on-demand in eu-central-1" in line.assumption
    # AND every other line says it is priced as us-east-1, as does the note the summary line prints
    assert all(line.assumption.endswith("priced as us-east-1") for line in estimate.lines[1:])
    assert estimate.pricing_note == "priced as us-east-1: every service but GPU hosts"


def test_a_gpu_type_the_region_has_no_price_for_is_priced_as_us_east_1_and_said_so():
    # GIVEN g6.xlarge hosts in eu-west-1, for which the catalog's source lists no price
    estimate = estimate_stack(_in_region("eu-west-1", "g6.xlarge"))
    line = next(line for line in estimate.lines if line.component.startswith("GPU hosts"))
    # WHEN estimated THEN the line uses us-east-1's price and says so, and so does the summary note
    assert line.min_usd == pytest.approx(CATALOG.get("g6.xlarge").on_demand_usd_per_hour * HOURS, abs=0.01)
    assert "priced as us-east-1 (no eu-west-1 price)" in line.assumption
    assert estimate.pricing_note == "priced as us-east-1: g6.xlarge hosts, every service but GPU hosts"


def test_a_us_east_1_stack_carries_no_pricing_note():
    # GIVEN a stack in us-east-1 WHEN estimated THEN nothing is flagged as priced elsewhere
    estimate = estimate_stack(_in_region("us-east-1", "g5.xlarge"))
    assert (estimate.region, estimate.pricing_note) == ("us-east-1", "")
    assert not [line for line in estimate.lines if "priced as us-east-1" in line.assumption]


def test_gpu_metrics_are_priced_per_gpu_and_group_aggregate_plus_one_put_a_minute_per_host():
    # GIVEN the stack above whose GPU group publishes 5 GPU measurements (g5.xlarge: 1 GPU per host; 1/2/4 hosts)
    tf = _stack()
    tf["resource"]["aws_autoscaling_group"]["gpu"]["//"] = {"gpu_metrics": {"namespace": "Gpu", "measurements": 5}}
    # WHEN it is priced
    line = _by_component(tf)["GPU metrics (aws_autoscaling_group.gpu)"]
    # THEN each host pays 5 custom metrics and 43,800 PutMetricData calls a month, the group 5 aggregates
    prices = load_prices().price
    metric, requests = prices["custom_metric_month"].usd, prices["put_metric_data_1k_requests"].usd * 43.8
    assert line == tuple(round(5 * (hosts + 1) * metric + hosts * requests, 2) for hosts in (1, 2, 4))
    # AND a group without the note costs nothing for metrics
    assert "GPU metrics (aws_autoscaling_group.gpu)" not in _by_component(_stack())


def test_a_four_gpu_host_publishes_each_measurement_per_gpu():
    # GIVEN a g5.12xlarge group (4 GPUs per host) at 1 host throughout, publishing 5 measurements
    tf = _stack(_hints(instance_types=["g5.12xlarge"], min_hosts=1, typical_hosts=1, max_hosts=1))
    tf["resource"]["aws_autoscaling_group"]["gpu"]["//"] = {"gpu_metrics": {"namespace": "Gpu", "measurements": 5}}
    # WHEN it is priced
    low, _, _ = _by_component(tf)["GPU metrics (aws_autoscaling_group.gpu)"]
    # THEN 5 x (4 GPUs + 1 aggregate) metrics and one host's requests
    prices = load_prices().price
    expected = 25 * prices["custom_metric_month"].usd + 43.8 * prices["put_metric_data_1k_requests"].usd
    assert low == round(expected, 2) and CATALOG.get("g5.12xlarge").gpus == 4


def test_a_job_gateway_is_priced_as_api_requests_plus_lambda_requests_and_gb_seconds():
    # GIVEN a stack with one HTTP API and its 512 MiB handler
    tf = {
        "resource": {
            "aws_apigatewayv2_api": {"api": {"name": "q-jobs-gateway", "protocol_type": "HTTP"}},
            "aws_lambda_function": {"fn": {"function_name": "q-jobs-gateway", "memory_size": 512}},
        }
    }
    # WHEN it is estimated
    (line,) = [x for x in estimate_stack(tf).lines if x.component.startswith("Job gateway")]
    # THEN per million requests: $1 (API) + $0.20 (Lambda) + 0.5 GB x 0.15 s x 1M x $0.0000166667
    per_million = 1.00 + 0.20 + 0.5 * 0.150 * 1e6 * 0.0000166667
    assert (line.min_usd, line.typical_usd, line.max_usd) == (0, round(per_million, 2), round(10 * per_million, 2))
    assert "150 ms x 512 MiB" in line.assumption


def test_each_dashboard_costs_three_dollars_a_month_beyond_the_free_three():
    # GIVEN a stack with one CloudWatch dashboard
    lines = _by_component(_stack())
    # WHEN the estimate is read
    # THEN the dashboard is priced at $3/month at every load (the account's free three are not assumed)
    assert lines["CloudWatch dashboards"] == pytest.approx((3.0, 3.0, 3.0))


def test_a_blue_green_service_pays_for_its_green_fleet_for_each_deployment_and_a_rolling_one_does_not():
    # GIVEN the committed blue/green example (g5.2xlarge, 1 / 4 / 6 hosts, 15 minutes with both fleets) and the
    # rolling queue example
    from sdk.tfjson import stack_file
    from tests.sdk.review.conftest import GENERATED

    public, queue = (json.loads(stack_file(GENERATED, s).read_text()) for s in ("sdxl-public", "comfyui-queue"))
    price = CATALOG.get("g5.2xlarge").on_demand_usd_per_hour
    # WHEN estimated
    green = {k: v for k, v in _by_component(public).items() if k.startswith("Green fleet during BLUE_GREEN")}
    # THEN green hosts x 1/4 h x 0 / 4 / 20 deployments a month are priced on-demand, once
    assert list(green.values()) == [pytest.approx((0, 4 * price / 4 * 4, 6 * price / 4 * 20), abs=0.01)]
    assert not any(k.startswith("Green fleet") for k in _by_component(queue))
