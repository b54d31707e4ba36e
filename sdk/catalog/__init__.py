"""GPU instance catalog: the one place that knows what each GPU instance type offers and costs."""

import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

_DATA = Path(__file__).with_name("gpu_instances.toml")


class GpuInstanceType(BaseModel):
    """One EC2 GPU instance size as ECS sees it (fractional sizes register their partition as GPUs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instance_type: str = Field(description="EC2 instance type, e.g. g5.xlarge (no default)")
    family: str = Field(description="Family prefix, e.g. g5 (no default)")
    gpu_model: str = Field(description="NVIDIA GPU model as AWS names it (no default)")
    gpus: Annotated[
        float, Field(gt=0, description="GPU capacity ECS registers: a count, or the partition (e.g. 0.125); no default")
    ]
    gpu_memory_mib: Annotated[
        int, Field(gt=0, description="GPU memory of the whole host (all GPUs or the partition), MiB; no default")
    ]
    vcpu: Annotated[int, Field(gt=0, description="vCPUs of the instance (no default)")]
    memory_mib: Annotated[int, Field(gt=0, description="Nominal instance memory, MiB (no default)")]
    compute_capability: str = Field(description="CUDA compute capability, e.g. 8.6 (no default)")
    rt_cores_per_gpu: Annotated[
        int, Field(ge=0, description="RT cores of one full GPU (0: none, OptiX still runs); no default")
    ]
    on_demand_usd_per_hour: Annotated[
        float, Field(gt=0, description="Linux on-demand price in the catalog region (no default)")
    ]
    price_source: str = Field(description="Where the price was checked (no default)")
    price_checked: str = Field(description="ISO date the price was last checked (no default)")
    price_verified: bool = Field(description="False when the check found no public source for the price (no default)")

    @property
    def fractional(self) -> bool:
        return self.gpus < 1

    @property
    def gpu_memory_per_gpu_mib(self) -> int:
        """GPU memory behind one unit of ECS GPU capacity (the partition's memory on fractional sizes)."""
        return self.gpu_memory_mib if self.fractional else self.gpu_memory_mib // int(self.gpus)


class Catalog(BaseModel):
    """Every GPU instance type the SDK knows, loaded once from gpu_instances.toml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = Field(description="Region the prices are for (no default)")
    price_source: str = Field(description="Summary of the price sources; per family on each entry")
    price_date: str = Field(description="ISO date of the latest price check (no default)")
    instances: dict[str, GpuInstanceType] = Field(description="Entries by instance type (no default)")

    def get(self, instance_type: str) -> GpuInstanceType:
        """The entry for `instance_type`; KeyError names the known families when it is not in the catalog."""
        try:
            return self.instances[instance_type]
        except KeyError:
            families = ", ".join(sorted({i.family for i in self.instances.values()}))
            raise KeyError(
                f"{instance_type!r} is not a GPU instance type in the catalog. Fix: use a size of {families}."
            ) from None

    def __contains__(self, instance_type: object) -> bool:
        return instance_type in self.instances

    def family(self, family: str) -> list[GpuInstanceType]:
        """Entries of one family, in file order."""
        return [i for i in self.instances.values() if i.family == family]


@cache
def load_catalog() -> Catalog:
    """Parse the data file; pydantic rejects a row that breaks a field's bounds."""
    raw = tomllib.loads(_DATA.read_text(encoding="utf-8"))
    meta = raw["meta"]
    instances: dict[str, GpuInstanceType] = {}
    for family, spec in raw["family"].items():
        for size, row in spec["sizes"].items():
            name = f"{family}.{size}"
            instances[name] = GpuInstanceType(
                instance_type=name,
                family=family,
                gpu_model=spec["gpu_model"],
                gpus=row["gpus"],
                gpu_memory_mib=round(spec["gpu_memory_mib_per_gpu"] * row["gpus"]),
                vcpu=row["vcpu"],
                memory_mib=row["memory_gib"] * 1024,
                compute_capability=spec["compute_capability"],
                rt_cores_per_gpu=spec["rt_cores_per_gpu"],
                on_demand_usd_per_hour=row["usd_per_hour"],
                price_source=spec["price_source"],
                price_checked=spec["price_checked"],
                price_verified=spec["price_verified"],
            )
    return Catalog(
        region=meta["region"], price_source=meta["price_source"], price_date=meta["price_date"], instances=instances
    )


CATALOG = load_catalog()


@cache
def known_regions() -> frozenset[str]:
    """AWS region names a stack may use (regions.toml, with its source)."""
    raw = tomllib.loads(Path(__file__).with_name("regions.toml").read_text(encoding="utf-8"))
    return frozenset(raw["regions"])


@cache
def regional_prices() -> dict[str, dict[str, float]]:
    """Linux on-demand USD/hour by region, then instance type, outside the catalog's region (regional_prices.toml)."""
    raw = tomllib.loads(Path(__file__).with_name("regional_prices.toml").read_text(encoding="utf-8"))
    return {region: dict(prices) for region, prices in raw["region"].items()}


def on_demand_price(instance_type: str, region: str) -> float | None:
    """USD/hour of `instance_type` in `region`; None when the catalog has no price for that region."""
    if region == CATALOG.region:
        return CATALOG.get(instance_type).on_demand_usd_per_hour
    return regional_prices().get(region, {}).get(instance_type)
