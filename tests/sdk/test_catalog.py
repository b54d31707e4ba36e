"""The GPU catalog data file: it loads, its figures hold together, and its errors help."""

import re

import pytest

from sdk.catalog import CATALOG, known_regions, load_catalog, on_demand_price, regional_prices

L4_MIB = 22888
ISSUE_FAMILIES = {"g4dn", "g5", "g6", "gr6", "g6e", "g6f", "gr6f", "p4d", "p5"}


def test_the_data_file_loads_every_family_the_issue_names():
    # GIVEN the bundled data file
    # WHEN it is loaded
    catalog = load_catalog()
    # THEN every family of the issue has at least one size, in us-east-1
    assert {i.family for i in catalog.instances.values()} >= ISSUE_FAMILIES
    assert catalog.region == "us-east-1"


@pytest.mark.parametrize(
    ("instance_type", "partition", "mib"),
    [
        ("g6f.large", 0.125, 2861),
        ("g6f.xlarge", 0.125, 2861),
        ("g6f.2xlarge", 0.25, 5722),
        ("g6f.4xlarge", 0.5, 11444),
        ("gr6f.4xlarge", 0.5, 11444),
    ],
)
def test_fractional_sizes_register_their_partition_and_its_memory(instance_type, partition, mib):
    # GIVEN a fractional L4 size
    instance = CATALOG.get(instance_type)
    # WHEN its GPU capacity is read
    # THEN it is less than one GPU, the documented partition, and the partition's share of an L4
    assert instance.fractional
    assert instance.gpus == partition
    assert instance.gpu_memory_mib == mib == round(L4_MIB * partition)
    assert instance.gpu_memory_per_gpu_mib == mib


def test_whole_gpu_sizes_have_integer_gpus_and_memory_per_gpu_times_count():
    # GIVEN every non-fractional entry
    whole = [i for i in CATALOG.instances.values() if not i.fractional]
    # WHEN its GPU figures are compared
    # THEN the count is an integer >= 1 and host GPU memory is count x per-GPU memory
    assert whole
    for instance in whole:
        assert instance.gpus == int(instance.gpus) >= 1, instance.instance_type
        assert instance.gpu_memory_mib == instance.gpu_memory_per_gpu_mib * int(instance.gpus)


def test_only_g6f_and_gr6f_are_fractional():
    # GIVEN the catalog
    # WHEN fractional entries are listed
    fractional = {i.family for i in CATALOG.instances.values() if i.fractional}
    # THEN they are exactly the two fractional L4 families
    assert fractional == {"g6f", "gr6f"}


@pytest.mark.parametrize(
    ("instance_type", "vcpu", "memory_gib", "gpus", "gpu_mib", "cc"),
    [
        ("g4dn.xlarge", 4, 16, 1, 16384, "7.5"),
        ("g5.12xlarge", 48, 192, 4, 4 * 24576, "8.6"),
        ("g6.xlarge", 4, 16, 1, L4_MIB, "8.9"),
        ("gr6.4xlarge", 16, 128, 1, L4_MIB, "8.9"),
        ("g6e.xlarge", 4, 32, 1, 45776, "8.9"),
        ("p4d.24xlarge", 96, 1152, 8, 8 * 40960, "8.0"),
        ("p5.48xlarge", 192, 2048, 8, 8 * 81920, "9.0"),
    ],
)
def test_spot_checked_entries_match_the_published_specs(instance_type, vcpu, memory_gib, gpus, gpu_mib, cc):
    # GIVEN one entry per family, checked against AWS's tables (DescribeInstanceTypes MiB)
    instance = CATALOG.get(instance_type)
    # WHEN its figures are read
    # THEN they match
    figures = (instance.vcpu, instance.memory_mib, instance.gpus, instance.gpu_memory_mib, instance.compute_capability)
    assert figures == (vcpu, memory_gib * 1024, gpus, gpu_mib, cc)


def test_prices_grow_with_size_within_a_single_gpu_family_line():
    # GIVEN the one-GPU sizes of each whole-GPU family
    for family in ("g4dn", "g5", "g6", "g6e"):
        single = sorted(
            (i for i in CATALOG.family(family) if i.gpus == 1 and "metal" not in i.instance_type), key=lambda i: i.vcpu
        )
        # WHEN prices are read in vCPU order
        prices = [i.on_demand_usd_per_hour for i in single]
        # THEN each bigger size costs more
        assert prices == sorted(prices) and len(set(prices)) == len(prices), family


def test_every_price_records_its_source_and_check_date():
    # GIVEN every entry
    for instance in CATALOG.instances.values():
        # WHEN its price provenance is read
        # THEN there is a source and an ISO date, and unverified prices say so in the source
        assert instance.price_source
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", instance.price_checked)
        assert instance.price_verified or "not found" in instance.price_source


def test_the_june_2025_p5_price_cut_is_in_the_catalog():
    # GIVEN the p5.48xlarge entry
    # WHEN its price is read
    # THEN it is the post-cut us-east-1 price, not the old 98.32
    assert CATALOG.get("p5.48xlarge").on_demand_usd_per_hour == 55.04


def test_an_unknown_type_error_names_the_families_and_the_fix():
    # GIVEN a type that is not a GPU instance
    # WHEN it is looked up
    with pytest.raises(KeyError) as raised:
        CATALOG.get("m5.large")
    # THEN the message names it, every family, and how to fix it
    message = raised.value.args[0]
    assert "'m5.large'" in message and "Fix" in message
    for family in ISSUE_FAMILIES:
        assert re.search(rf"\b{family}\b", message), family


def test_membership_checks_do_not_raise():
    # GIVEN the catalog
    # WHEN membership is tested
    # THEN known types are in it and others are not
    assert "g6f.large" in CATALOG
    assert "m5.large" not in CATALOG


def test_the_region_list_holds_the_commercial_govcloud_and_china_regions_and_nothing_shell_like():
    regions = known_regions()
    assert {"us-east-1", "eu-west-1", "ap-southeast-7", "us-gov-west-1", "cn-north-1"} <= regions
    assert all(re.fullmatch(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", region) for region in regions)


def test_every_regional_price_is_a_catalog_type_in_a_known_region_and_the_five_major_regions_are_priced():
    # GIVEN the regional price file WHEN read
    prices = regional_prices()
    # THEN every region is an AWS region, every type is in the catalog, every price is positive
    assert set(prices) <= known_regions()
    for by_type in prices.values():
        assert all(t in CATALOG and usd > 0 for t, usd in by_type.items())
    # AND the major regions price the types the examples use, us-east-1 from the catalog itself
    for region in ("us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"):
        assert on_demand_price("g5.2xlarge", region) is not None
    assert on_demand_price("g5.2xlarge", "us-east-1") == CATALOG.get("g5.2xlarge").on_demand_usd_per_hour
    assert on_demand_price("g6.xlarge", "eu-west-1") is None  # not in the source: the estimate says so
