"""Monthly cost estimate of a synthesized stack, from its Terraform JSON and the blueprints' review hints.

GPU hosts are priced from the GPU catalog (first instance type of each ASG) in the stack's region where the catalog
has that region's price (sdk/catalog/regional_prices.toml); everything else from sdk/catalog/aws_prices.toml
(us-east-1). What is priced as us-east-1 in another region is named on its line and in `priced_as_us_east_1`.
Usage a stack cannot state (traffic, requests) is assumed there, and every assumption used is listed on the
estimate so a reviewer can judge it.
"""

import tomllib
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from sdk.catalog import CATALOG, on_demand_price
from sdk.deployments import deployment_peaks
from sdk.gpu_metrics import GPU_METRICS_KEY, PUT_REQUESTS_PER_HOST_MONTH, custom_metric_months
from sdk.hints import GpuCapacityHint, read_hints
from sdk.sizing import hosts_for_tasks
from sdk.tfjson import referenced, resources

_PRICES = Path(__file__).parent / "catalog" / "aws_prices.toml"


class Price(BaseModel):
    """One checked unit price of aws_prices.toml, with where and when it was checked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    usd: float = Field(description="Unit price in USD (no default)")
    unit: str = Field(description="What one unit is (no default)")
    source: str = Field(description="Where the price was checked (no default)")
    checked: str = Field(description="ISO date of the check (no default)")
    verified: bool = Field(description="False when the check did not find a public source (no default)")


class PriceBook(BaseModel):
    """Non-GPU prices and usage assumptions, loaded from aws_prices.toml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = Field(description="Region of the prices (no default)")
    hours_per_month: float = Field(description="Hours in a billing month (730 in the data file)")
    price: dict[str, Price] = Field(description="Prices by key (no default)")
    assume: dict[str, Any] = Field(description="Usage assumptions by key (no default)")


@cache
def load_prices() -> PriceBook:
    raw = tomllib.loads(_PRICES.read_text(encoding="utf-8"))
    return PriceBook(
        region=raw["meta"]["region"],
        hours_per_month=raw["meta"]["hours_per_month"],
        price=raw["price"],
        assume=raw["assume"],
    )


class CostLine(BaseModel):
    """One component of a CostEstimate: monthly USD at the minimum, typical use and the maximum."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    component: str = Field(description="What is priced, e.g. 'GPU hosts (aws_autoscaling_group.x)'")
    min_usd: float = Field(description="Monthly USD at the minimum (no default)")
    typical_usd: float = Field(description="Monthly USD at typical use (no default)")
    max_usd: float = Field(description="Monthly USD at the maximum (no default)")
    assumption: str = Field(description="How the figures were computed (no default)")


class CostEstimate(BaseModel):
    """Monthly estimate per component; totals are the sums of the lines."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lines: tuple[CostLine, ...] = Field(description="One line per priced component (no default)")
    assumptions: tuple[str, ...] = Field(description="Every price source and usage assumption used")
    region: str = Field(default="us-east-1", description="Region of the stack's AWS provider. Default us-east-1.")
    priced_as_us_east_1: tuple[str, ...] = Field(
        default=(), description="What a stack outside us-east-1 has priced at us-east-1's prices. Default none."
    )

    @property
    def pricing_note(self) -> str:
        """'' when every line is priced in the stack's region, else what is priced as us-east-1."""
        if not self.priced_as_us_east_1:
            return ""
        return f"priced as us-east-1: {', '.join(self.priced_as_us_east_1)}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def min_monthly_usd(self) -> float:
        return round(sum(line.min_usd for line in self.lines), 2)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def typical_monthly_usd(self) -> float:
        return round(sum(line.typical_usd for line in self.lines), 2)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def max_monthly_usd(self) -> float:
        return round(sum(line.max_usd for line in self.lines), 2)


def _line(component: str, values: Sequence[float], assumption: str) -> CostLine:
    low, typical, high = (round(v, 2) for v in values)
    return CostLine(component=component, min_usd=low, typical_usd=typical, max_usd=high, assumption=assumption)


def _slashed(values: Sequence[float]) -> str:
    return "/".join(f"{v:g}" for v in values)


def root_volume_gb(tf_json: dict[str, Any], asg_address: str) -> float:
    """GB of EBS per host: the block device mappings of the launch template(s) the ASG references."""
    asg = resources(tf_json, "aws_autoscaling_group").get(asg_address.split(".", 1)[1], {})
    templates = resources(tf_json, "aws_launch_template")
    total = 0.0
    for name in referenced(asg, "aws_launch_template"):
        for mapping in templates.get(name, {}).get("block_device_mappings", []):
            total += float(mapping.get("ebs", {}).get("volume_size", 0))
    return total


def warm_pool_hosts(tf_json: dict[str, Any], asg_address: str, running: float) -> float:
    """Stopped hosts the emitted warm pool keeps beside `running` ones. AWS PutWarmPool: the pool holds
    MaxGroupPreparedCapacity minus the desired capacity, never fewer than MinSize; unset (-1): max size minus
    desired."""
    asg = resources(tf_json, "aws_autoscaling_group").get(asg_address.split(".", 1)[1], {})
    pool = asg.get("warm_pool")
    if not pool:
        return 0
    prepared = pool.get("max_group_prepared_capacity", -1)
    cap = float(asg.get("max_size", 0)) if prepared < 0 else float(prepared)
    return max(float(pool.get("min_size", 0)), cap - running)


def _blended_host_hour(hint: GpuCapacityHint, price: float, hosts: float, spot_discount: float) -> float:
    """USD per hour for `hosts` hosts at on-demand `price`: the on-demand base, then the Spot share at the discount."""
    above_base = max(hosts - hint.on_demand_base, 0.0)
    spot = above_base * hint.spot_percent / 100
    return price * ((hosts - spot) + spot * (1 - spot_discount))


def _host_price(instance_type: str, region: str) -> tuple[float, str]:
    """On-demand USD/hour in `region` and how it was priced; us-east-1's, said so, where the region has none."""
    instance = CATALOG.get(instance_type)
    unverified = "" if instance.price_verified else " (unverified price)"
    regional = on_demand_price(instance_type, region)
    if regional is not None:
        return regional, f"{instance_type} at ${regional}/h on-demand in {region}{unverified}"
    price = instance.on_demand_usd_per_hour
    return price, f"{instance_type} at ${price}/h on-demand{unverified}, priced as us-east-1 (no {region} price)"


def _gpu_lines(tf_json: dict[str, Any], hint: GpuCapacityHint, book: PriceBook, region: str) -> Iterator[CostLine]:
    hours, discount = book.hours_per_month, book.assume["spot_discount_percent"] / 100
    host_counts = (hint.min_hosts, hint.typical_hosts * hint.duty_cycle, hint.max_hosts)
    price, priced = _host_price(hint.instance_types[0], region)
    yield _line(
        f"GPU hosts ({hint.asg_address})",
        [_blended_host_hour(hint, price, hosts, discount) * hours for hosts in host_counts],
        f"{priced}; hosts {hint.min_hosts} / "
        f"{hint.typical_hosts:g} x duty cycle {hint.duty_cycle:g} / {hint.max_hosts}; on-demand base "
        f"{hint.on_demand_base}, Spot {hint.spot_percent}% above it at {discount:.0%} off",
    )
    gb = root_volume_gb(tf_json, hint.asg_address)
    gp3 = book.price["ebs_gp3_gb_month"].usd
    yield _line(
        f"EBS root volumes ({hint.asg_address})",
        [(hosts + warm_pool_hosts(tf_json, hint.asg_address, hosts)) * gb * gp3 for hosts in host_counts],
        f"{gb:g} GB gp3 per host at ${gp3}/GB-month, running hosts + the stopped hosts of the emitted warm pool "
        f"({warm_pool_hosts(tf_json, hint.asg_address, 0):g} at rest)",
    )
    yield from _deployment_lines(tf_json, hint, book, region, host_counts)
    yield from _gpu_metric_lines(tf_json, hint, book, host_counts)


def _deployment_lines(
    tf_json: dict[str, Any], hint: GpuCapacityHint, book: PriceBook, region: str, host_counts: Sequence[float]
) -> Iterator[CostLine]:
    """A blue/green, canary or linear deployment runs a green fleet as large as blue until the bake ends."""
    price, priced = _host_price(hint.instance_types[0], region)
    for peak in deployment_peaks(tf_json):
        if peak.asg != hint.asg_address or peak.both_fleets_minutes == 0:
            continue
        hours, counts = peak.both_fleets_minutes / 60, book.assume["deployments_per_month"]
        green = (*host_counts[:2], peak.hosts_needed - hosts_for_tasks(peak.max_tasks, hint.tasks_per_host))
        yield _line(
            f"Green fleet during {peak.strategy} deployments ({peak.service})",
            [hosts * price * hours * count for hosts, count in zip(green, counts, strict=True)],
            f"{_slashed(counts)} deployments/month; green hosts {_slashed(green)} for ~{peak.both_fleets_minutes} min "
            f"each (traffic shift + bake; task start not counted); {priced}, all on-demand",
        )


def _gpu_metric_lines(
    tf_json: dict[str, Any], hint: GpuCapacityHint, book: PriceBook, host_counts: Sequence[float]
) -> Iterator[CostLine]:
    """The CloudWatch agent's GPU metrics of one group (sdk.gpu_metrics), from the ASG's "//" note."""
    asg = resources(tf_json, "aws_autoscaling_group").get(hint.asg_address.split(".", 1)[1], {})
    metrics = asg.get("//", {}).get(GPU_METRICS_KEY)
    if not metrics:
        return
    instance = CATALOG.get(hint.instance_types[0])
    gpus = 1 if instance.fractional else int(instance.gpus)
    per_metric, per_1k = book.price["custom_metric_month"].usd, book.price["put_metric_data_1k_requests"].usd
    requests = PUT_REQUESTS_PER_HOST_MONTH / 1000 * per_1k
    yield _line(
        f"GPU metrics ({hint.asg_address})",
        [custom_metric_months(metrics["measurements"], h, gpus) * per_metric + h * requests for h in host_counts],
        f"{metrics['measurements']} measurements x ({gpus} GPU(s) per host x hosts + 1 group aggregate) custom "
        f"metrics in {metrics['namespace']} at ${per_metric}/metric-month (prorated by the hour), + one "
        f"PutMetricData a minute per host at ${per_1k}/1k requests",
    )


def _per_resource(
    count: int, component: str, fixed: float, variable: Sequence[float], assumption: str
) -> list[CostLine]:
    """One line for `count` resources that each cost `fixed` plus a min/typical/max usage part."""
    if count == 0:
        return []
    return [_line(component, [count * (fixed + v) for v in variable], assumption)]


def _load_balancer_lines(tf_json: dict[str, Any], book: PriceBook) -> list[CostLine]:
    albs = [
        lb
        for lb in resources(tf_json, "aws_lb").values()
        if lb.get("load_balancer_type", "application") == "application"
    ]
    hours, lcu = book.hours_per_month, book.assume["alb_lcu"]
    lcu_price = book.price["alb_lcu_hour"].usd
    return _per_resource(
        len(albs),
        "Application Load Balancers",
        book.price["alb_hour"].usd * hours,
        [n * lcu_price * hours for n in lcu],
        f"{len(albs)} ALB(s) x (${book.price['alb_hour'].usd}/h + {_slashed(lcu)} LCU at ${lcu_price}/LCU-h)",
    )


def _public_ipv4_lines(tf_json: dict[str, Any], book: PriceBook) -> list[CostLine]:
    eips = len(resources(tf_json, "aws_eip"))
    alb_nodes = sum(
        len(lb.get("subnets", [])) for lb in resources(tf_json, "aws_lb").values() if not lb.get("internal", False)
    )
    count, hourly = eips + alb_nodes, book.price["public_ipv4_hour"].usd
    return _per_resource(
        count,
        "Public IPv4 addresses",
        hourly * book.hours_per_month,
        (0, 0, 0),
        f"{eips} EIP(s) + {alb_nodes} internet-facing ALB node(s) at ${hourly}/h",
    )


def _nat_lines(tf_json: dict[str, Any], book: PriceBook) -> list[CostLine]:
    count, gb = len(resources(tf_json, "aws_nat_gateway")), book.assume["nat_gb"]
    hourly, per_gb = book.price["nat_gateway_hour"].usd, book.price["nat_gateway_gb"].usd
    return _per_resource(
        count,
        "NAT gateways",
        hourly * book.hours_per_month,
        [g * per_gb for g in gb],
        f"{count} NAT gateway(s) x (${hourly}/h + {_slashed(gb)} GB at ${per_gb}/GB)",
    )


def _endpoint_lines(tf_json: dict[str, Any], book: PriceBook) -> list[CostLine]:
    interface = [
        e
        for e in resources(tf_json, "aws_vpc_endpoint").values()
        if e.get("vpc_endpoint_type", "Gateway") == "Interface"
    ]
    az_count = sum(max(len(e.get("subnet_ids", [])), 1) for e in interface)
    gb, hourly = book.assume["endpoint_gb"], book.price["interface_endpoint_az_hour"].usd
    per_gb = book.price["interface_endpoint_gb"].usd
    # Spread each endpoint's GB over its AZs so the per-AZ line stays count x (fixed + variable).
    per_az_gb = [g * len(interface) / az_count for g in gb] if az_count else [0.0, 0.0, 0.0]
    return _per_resource(
        az_count,
        "Interface VPC endpoints",
        hourly * book.hours_per_month,
        [g * per_gb for g in per_az_gb],
        f"{len(interface)} interface endpoint(s), {az_count} endpoint-AZs at ${hourly}/AZ-h"
        f" + {_slashed(gb)} GB each at ${per_gb}/GB; gateway endpoints are free",
    )


def _log_lines(tf_json: dict[str, Any], book: PriceBook) -> list[CostLine]:
    if not resources(tf_json, "aws_cloudwatch_log_group"):
        return []
    hints = read_hints(tf_json).values()
    gb = sum(h.log_gb_per_month for h in hints) if hints else book.assume["default_log_gb"]
    ingest, store = book.price["logs_ingest_gb"].usd, book.price["logs_store_gb_month"].usd
    return _per_resource(
        1,
        "CloudWatch Logs",
        gb * (ingest + store),
        (0, 0, 0),
        f"{gb:g} GB/month ingested at ${ingest}/GB and kept a month at ${store}/GB-month "
        f"(from the blueprint hints; not scaled with hosts)",
    )


def _alarm_lines(tf_json: dict[str, Any], book: PriceBook) -> list[CostLine]:
    metrics = sum(
        max(sum(1 for q in a.get("metric_query", []) if q.get("metric")), 1)
        for a in resources(tf_json, "aws_cloudwatch_metric_alarm").values()
    )
    price = book.price["alarm_metric_month"].usd
    return _per_resource(
        metrics, "CloudWatch alarms", price, (0, 0, 0), f"{metrics} alarm metric(s) at ${price}/metric-month"
    )


def _dashboard_lines(tf_json: dict[str, Any], book: PriceBook) -> list[CostLine]:
    count, price = len(resources(tf_json, "aws_cloudwatch_dashboard")), book.price["dashboard_month"].usd
    return _per_resource(
        count,
        "CloudWatch dashboards",
        price,
        (0, 0, 0),
        f"{count} dashboard(s) at ${price}/month (an account's first 3 are free; not counted here)",
    )


def _gateway_lines(tf_json: dict[str, Any], book: PriceBook) -> list[CostLine]:
    """Job gateways: HTTP API requests, and the Lambda each request invokes (requests + GB-seconds)."""
    p, a = {k: v.usd for k, v in book.price.items()}, book.assume
    functions = {f["function_name"]: f for f in resources(tf_json, "aws_lambda_function").values()}
    lines = []
    for api in resources(tf_json, "aws_apigatewayv2_api").values():
        function = functions.get(api["name"], {})
        gb_seconds = function.get("memory_size", 128) / 1024 * a["gateway_handler_ms"] / 1000 * 1e6
        per_million = p["http_api_million_requests"] + p["lambda_million_requests"] + gb_seconds * p["lambda_gb_second"]
        lines.append(
            _line(
                f"Job gateway {api['name']} (HTTP API + Lambda)",
                [m * per_million for m in a["gateway_million_requests"]],
                f"{_slashed(a['gateway_million_requests'])}M requests/month at ${p['http_api_million_requests']}/M "
                f"(API) + ${p['lambda_million_requests']}/M and {a['gateway_handler_ms']:g} ms x "
                f"{function.get('memory_size', 128)} MiB at ${p['lambda_gb_second']:.10f}/GB-s (Lambda)",
            )
        )
    return lines


def _small_usage_lines(tf_json: dict[str, Any], book: PriceBook) -> list[CostLine]:
    a, p = book.assume, {k: v.usd for k, v in book.price.items()}
    queues = len(resources(tf_json, "aws_sqs_queue"))
    tables = len(resources(tf_json, "aws_dynamodb_table"))
    buckets = len(resources(tf_json, "aws_s3_bucket"))
    table_usd = (
        a["dynamodb_million_writes"] * p["dynamodb_million_writes"]
        + a["dynamodb_million_reads"] * p["dynamodb_million_reads"]
        + a["dynamodb_gb"] * p["dynamodb_gb_month"]
    )
    bucket_usd = (
        a["s3_gb"] * p["s3_gb_month"]
        + a["s3_thousand_puts"] * p["s3_thousand_puts"]
        + a["s3_thousand_gets"] * p["s3_thousand_gets"]
    )
    return [
        *_per_resource(
            queues,
            "SQS queues",
            a["sqs_million_requests"] * p["sqs_million_requests"],
            (0, 0, 0),
            f"{queues} queue(s) x {a['sqs_million_requests']:g}M requests at ${p['sqs_million_requests']}/M",
        ),
        *_per_resource(
            tables,
            "DynamoDB tables (on-demand)",
            table_usd,
            (0, 0, 0),
            f"{tables} table(s) x ({a['dynamodb_million_writes']:g}M writes, "
            f"{a['dynamodb_million_reads']:g}M reads, {a['dynamodb_gb']:g} GB)",
        ),
        *_per_resource(
            buckets,
            "S3 buckets",
            bucket_usd,
            (0, 0, 0),
            f"{buckets} bucket(s) x ({a['s3_gb']:g} GB, {a['s3_thousand_puts']:g}k PUTs, "
            f"{a['s3_thousand_gets']:g}k GETs)",
        ),
    ]


def _assumptions(tf_json: dict[str, Any], book: PriceBook, priced_asgs: set[str], region: str) -> tuple[str, ...]:
    unpriced = sorted(
        f"aws_autoscaling_group.{name}"
        for name in resources(tf_json, "aws_autoscaling_group")
        if f"aws_autoscaling_group.{name}" not in priced_asgs
    )
    notes = [
        f"{book.hours_per_month:g} hours per month; {book.region} Linux on-demand prices"
        + ("." if region == book.region else f" for everything but GPU hosts in {region} (no regional prices)."),
        "GPU host prices: sdk/catalog/gpu_instances.toml (us-east-1; source and check date per family)"
        + ("." if region == book.region else f", sdk/catalog/regional_prices.toml ({region}, where listed)."),
        *(
            f"{key}: ${price.usd} per {price.unit} ({price.source}; checked {price.checked}"
            f"{'' if price.verified else ', not re-found in a public source that day'})"
            for key, price in sorted(book.price.items())
        ),
        "Not priced (no charge or negligible): VPC, subnets, security groups, IAM, ECS control plane, "
        "SNS, gateway endpoints, data transfer out, Container Insights metrics.",
    ]
    notes += [f"{address} has no blueprint hint: its hosts are not priced." for address in unpriced]
    return tuple(notes)


def stack_region(tf_json: dict[str, Any]) -> str:
    """The region of the stack's (first) AWS provider; us-east-1 when it names none."""
    providers = tf_json.get("provider", {}).get("aws", [])
    return str(providers[0].get("region", "us-east-1")) if providers else "us-east-1"


def _priced_as_us_east_1(region: str, lines: list[CostLine], book: PriceBook) -> tuple[list[CostLine], list[str]]:
    """Outside us-east-1 every non-GPU line uses aws_prices.toml's us-east-1 prices: say so on each line and in
    the list, beside the GPU types the region has no price for."""
    if region == book.region:
        return lines, []
    marked = [
        line
        if line.component.startswith("GPU hosts")
        else line.model_copy(update={"assumption": f"{line.assumption}; priced as us-east-1"})
        for line in lines
    ]
    gpu = sorted({line.assumption.split(" ", 1)[0] for line in lines if "priced as us-east-1" in line.assumption})
    others = [] if len(marked) == len(gpu) else ["every service but GPU hosts"]
    return marked, [f"{instance_type} hosts" for instance_type in gpu] + others


def estimate_stack(tf_json: dict[str, Any]) -> CostEstimate:
    """Monthly min / typical / max estimate of one synthesized stack, in its provider's region."""
    book, region = load_prices(), stack_region(tf_json)
    capacity = [hint for hints in read_hints(tf_json).values() for hint in hints.gpu_capacity]
    lines = [line for hint in capacity for line in _gpu_lines(tf_json, hint, book, region)]
    for part in (
        _load_balancer_lines,
        _public_ipv4_lines,
        _nat_lines,
        _endpoint_lines,
        _log_lines,
        _alarm_lines,
        _dashboard_lines,
        _gateway_lines,
        _small_usage_lines,
    ):
        lines += part(tf_json, book)
    lines, priced_as = _priced_as_us_east_1(region, lines, book)
    return CostEstimate(
        lines=tuple(lines),
        assumptions=_assumptions(tf_json, book, {hint.asg_address for hint in capacity}, region),
        region=region,
        priced_as_us_east_1=tuple(priced_as),
    )
