"""Network: bring your own VPC/subnets, or a VPC with public + private subnets over >= 2 AZs, NAT,
flow logs, a closed default security group and optional VPC endpoints."""

import ipaddress
from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel

from sdk.constructs.engine import (
    Construct,
    DataAwsAvailabilityZones,
    DataAwsEc2InstanceTypeOfferings,
    DataAwsVpcEndpointService,
    DefaultSecurityGroup,
    Eip,
    Fn,
    InternetGateway,
    NatGateway,
    Op,
    Precondition,
    Route,
    RouteTable,
    RouteTableAssociation,
    SecurityGroup,
    Subnet,
    TerraformLocal,
    TerraformResourceLifecycle,
    TerraformStack,
    Token,
    Vpc,
    VpcEndpoint,
    VpcSecurityGroupEgressRule,
    VpcSecurityGroupIngressRule,
)
from sdk.constructs.observability import FlowLogs
from sdk.constructs.review_hints import record_hints
from sdk.constructs.stack import required_stack_region
from sdk.constructs.structs import new
from sdk.specs import NetworkSpec

GATEWAY_ENDPOINTS = frozenset({"s3", "dynamodb"})


def _key(name: str) -> str:
    return name.replace(".", "_").replace("-", "_")


class Network(Construct):
    """`.vpc_id`, `.public_subnet_ids`, `.private_subnet_ids`, `.vpc_cidr` (None for a VPC you bring),
    `.zones_summary` (how a created VPC picks its AZs; None for a VPC you bring), `.owner` (the blueprint that made
    it). Another blueprint in the stack uses it with `network=<blueprint>.network` (share_network).

    `instance_types`: the GPU types hosts in the private subnets may launch; a created VPC uses only AZs that offer
    every one of them and every interface endpoint it creates. `host_endpoints`: interface endpoints those hosts
    need (sdk.constructs.gpu_metrics.host_endpoints), added where the spec creates interface endpoints (a VPC with
    none reaches AWS through its NAT); `.spec` then lists them.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        spec: NetworkSpec,
        instance_types: Sequence[str] = (),
        host_endpoints: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        spec = with_host_endpoints(spec, host_endpoints)
        self.spec = spec
        self.instance_types = tuple(instance_types)
        self.zones_summary: str | None = None
        self.vpc: Vpc | None = None
        self.nat_gateways: list[NatGateway] = []
        self.endpoints: dict[str, VpcEndpoint] = {}
        if not spec.creates_vpc:
            assert spec.vpc_id is not None
            self.vpc_id: str = spec.vpc_id
            self.public_subnet_ids: list[str] = list(spec.public_subnet_ids)
            self.private_subnet_ids: list[str] = list(spec.private_subnet_ids)
            self.vpc_cidr: str | None = None
            return
        self._create(name, spec)

    @property
    def owner(self) -> str:
        """The path, below the stack, of the blueprint that made this network (e.g. 'sdxl')."""
        return self.node.path.split("/", 1)[-1].rsplit("/", 1)[0]

    def _create(self, name: str, spec: NetworkSpec) -> None:
        self._zones(spec)
        self.vpc = new(
            Vpc,
            self,
            "vpc",
            cidr_block=spec.cidr_block,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": name},
            # Checked at plan, before anything is created; the subnets (which depend on the VPC) are not planned.
            lifecycle={"precondition": [self._zones_precondition(spec)]},
        )
        # Each attribute read is a jsii round trip: read every id once and pass the token on.
        vpc_id = self.vpc_id = self.vpc.id
        self.vpc_cidr = spec.cidr_block
        new(DefaultSecurityGroup, self, "default_sg", vpc_id=vpc_id, tags={"Name": f"{name}-default-closed"})
        self.flow_logs = FlowLogs(self, "flow_logs", name=name, vpc_id=vpc_id)
        blocks = list(
            ipaddress.ip_network(spec.cidr_block).subnets(
                new_prefix=ipaddress.ip_network(spec.cidr_block).prefixlen + 4
            )
        )
        igw = new(InternetGateway, self, "igw", vpc_id=vpc_id, tags={"Name": name})
        public_rt_id = new(RouteTable, self, "public_rt", vpc_id=vpc_id, tags={"Name": f"{name}-public"}).id
        new(
            Route,
            self,
            "public_default",
            route_table_id=public_rt_id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
        )
        public, private, private_rts = [], [], []
        for i in range(spec.az_count):
            az = Token.as_string(Fn.element(self.zone_list, i))
            pub = new(
                Subnet,
                self,
                f"public_{i}",
                vpc_id=vpc_id,
                cidr_block=str(blocks[i]),
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{i}", "tier": "public"},
            ).id
            new(RouteTableAssociation, self, f"public_{i}_rt", subnet_id=pub, route_table_id=public_rt_id)
            priv = new(
                Subnet,
                self,
                f"private_{i}",
                vpc_id=vpc_id,
                cidr_block=str(blocks[8 + i]),
                availability_zone=az,
                tags={"Name": f"{name}-private-{i}", "tier": "private"},
            ).id
            rt = new(RouteTable, self, f"private_{i}_rt_table", vpc_id=vpc_id, tags={"Name": f"{name}-private-{i}"}).id
            new(RouteTableAssociation, self, f"private_{i}_rt", subnet_id=priv, route_table_id=rt)
            public.append(pub)
            private.append(priv)
            private_rts.append(rt)
        self._nat(name, spec, public, private_rts)
        self.public_subnet_ids = public
        self.private_subnet_ids = private
        self._endpoints(name, spec, private_rts)

    def _zones(self, spec: NetworkSpec) -> TerraformLocal:
        """Available zones that offer every instance type and interface endpoint, sorted (AZ names map to different
        AZ ids per account; some, like us-east-1's use1-az3, get no new GPU families or lack endpoint services)."""
        self._available = new(
            DataAwsAvailabilityZones,
            self,
            "azs",
            state="available",
            filter=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        )
        self._offered: dict[str, list[str]] = {}
        self._endpoint_zones = [
            new(
                DataAwsVpcEndpointService,
                self,
                f"endpoint_service_{_key(endpoint)}",
                service_name=f"com.amazonaws.{required_stack_region(self)}.{endpoint}",
                service_type="Interface",
            ).availability_zones
            for endpoint in interface_endpoints(spec)
        ]
        self._available_names = self._available.names
        self.zones = TerraformLocal(self, "zones", self._qualified_zones())
        self.zone_list = self.zones.as_list
        self.zones_summary = zones_summary(spec, self.instance_types)
        return self.zones

    def _qualified_zones(self) -> object:
        for instance_type in self.instance_types:
            if instance_type not in self._offered:
                self._offered[instance_type] = new(
                    DataAwsEc2InstanceTypeOfferings,
                    self,
                    f"offers_{_key(instance_type)}",
                    location_type="availability-zone",
                    filter=[{"name": "instance-type", "values": [instance_type]}],
                ).locations
        offered = [*self._offered.values(), *self._endpoint_zones]
        names = self._available_names
        return Fn.sort(Fn.setintersection(names, offered)) if offered else names

    def host(self, instance_types: Sequence[str]) -> bool:
        """Another blueprint's GPU types will run in the private subnets too: a created VPC then picks only AZs that
        offer them as well (its zones, plan-time check and summary follow). True when that changed anything."""
        added = [t for t in instance_types if t not in self.instance_types]
        self.instance_types = (*self.instance_types, *added)
        if not added or self.vpc is None:
            return False
        self.zones.expression = self._qualified_zones()
        precondition = Precondition(**self._zones_precondition(self.spec))  # type: ignore[arg-type]
        self.vpc.lifecycle = TerraformResourceLifecycle(precondition=[precondition])
        self.zones_summary = zones_summary(self.spec, self.instance_types)
        return True

    def _zones_precondition(self, spec: NetworkSpec) -> dict[str, object]:
        wanted = zone_requirements(spec, self.instance_types) or "subnets"
        return {
            "condition": Op.gte(Fn.length_of(self.zone_list), spec.az_count),
            "error_message": f"network.az_count: fewer than {spec.az_count} available AZs offer {wanted} in this "
            "account and region. Fix: lower network.az_count, drop a type or endpoint that few AZs offer, or bring "
            "subnets (network.vpc_id) in AZs that offer them.",
        }

    def _nat(self, name: str, spec: NetworkSpec, public: list[str], private_rts: list[str]) -> None:
        """NAT gateways in the first public subnets (ids) and a default route to one from each private route table."""
        if spec.nat_gateways == "none":
            return
        count = 1 if spec.nat_gateways == "single" else spec.az_count
        for i in range(count):
            eip = new(Eip, self, f"nat_eip_{i}", domain="vpc", tags={"Name": f"{name}-nat-{i}"})
            self.nat_gateways.append(
                new(
                    NatGateway,
                    self,
                    f"nat_{i}",
                    allocation_id=eip.id,
                    subnet_id=public[i],
                    tags={"Name": f"{name}-nat-{i}"},
                )
            )
        nat_ids = [nat.id for nat in self.nat_gateways]
        for i, rt in enumerate(private_rts):
            new(
                Route,
                self,
                f"private_{i}_default",
                route_table_id=rt,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat_ids[i % count],
            )

    def _endpoints(self, name: str, spec: NetworkSpec, private_rts: list[str]) -> None:
        interface = interface_endpoints(spec)
        self.endpoint_security_group: SecurityGroup | None = None
        sg_ids: list[str] = []
        if interface:
            sg = new(
                SecurityGroup,
                self,
                "endpoints_sg",
                name=f"{name}-endpoints",
                vpc_id=self.vpc_id,
                description="HTTPS from inside the VPC to interface endpoints",
                tags={"Name": f"{name}-endpoints"},
            )
            sg_ids = [sg.id]
            new(
                VpcSecurityGroupIngressRule,
                self,
                "endpoints_https",
                security_group_id=sg_ids[0],
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=spec.cidr_block,
                description="HTTPS from the VPC",
            )
            self.endpoint_security_group = sg
        for endpoint in sorted(set(spec.vpc_endpoints)):
            service = f"com.amazonaws.{required_stack_region(self)}.{endpoint}"
            key = endpoint.replace(".", "_").replace("-", "_")
            if endpoint in GATEWAY_ENDPOINTS:
                self.endpoints[endpoint] = new(
                    VpcEndpoint,
                    self,
                    f"endpoint_{key}",
                    vpc_id=self.vpc_id,
                    service_name=service,
                    vpc_endpoint_type="Gateway",
                    route_table_ids=list(private_rts),
                    tags={"Name": f"{name}-{endpoint}"},
                )
            else:
                assert self.endpoint_security_group is not None
                self.endpoints[endpoint] = new(
                    VpcEndpoint,
                    self,
                    f"endpoint_{key}",
                    vpc_id=self.vpc_id,
                    service_name=service,
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=self.private_subnet_ids,
                    security_group_ids=sg_ids,
                    tags={"Name": f"{name}-{endpoint}"},
                )


def with_host_endpoints(spec: NetworkSpec, endpoints: Sequence[str]) -> NetworkSpec:
    """`spec` with `endpoints` added when it creates interface endpoints already (else unchanged)."""
    missing = [e for e in endpoints if e not in spec.vpc_endpoints]
    if not (spec.creates_vpc and interface_endpoints(spec) and missing):
        return spec
    return spec.model_validate({**dict(spec), "vpc_endpoints": (*spec.vpc_endpoints, *missing)})


def interface_endpoints(spec: NetworkSpec) -> list[str]:
    return sorted({e for e in spec.vpc_endpoints if e not in GATEWAY_ENDPOINTS})


def zone_requirements(spec: NetworkSpec, instance_types: Sequence[str]) -> str:
    """What every AZ of a created VPC must offer, as text ("" when nothing is required)."""
    endpoints = interface_endpoints(spec)
    parts = (", ".join(instance_types), f"endpoints {', '.join(endpoints)}" if endpoints else "")
    return " and ".join(part for part in parts if part)


def zones_summary(spec: NetworkSpec, instance_types: Sequence[str]) -> str | None:
    """The summary line of how a created VPC picks its AZs (None for a VPC you bring or no requirement)."""
    wanted = zone_requirements(spec, instance_types)
    return f"AZs: first {spec.az_count} (sorted) where {wanted} are offered" if spec.creates_vpc and wanted else None


def https_out_security_group(
    scope: Construct, prefix: str, *, name: str, vpc_id: str, description: str, egress_description: str
) -> SecurityGroup:
    """A security group with no ingress and HTTPS (443) out only: `<prefix>_sg` + `<prefix>_https_out`."""
    group = new(
        SecurityGroup, scope, f"{prefix}_sg", name=name, vpc_id=vpc_id, description=description, tags={"Name": name}
    )
    new(
        VpcSecurityGroupEgressRule,
        scope,
        f"{prefix}_https_out",
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        cidr_ipv4="0.0.0.0/0",
        description=egress_description,
    )
    return group


class NetworkConflictError(ValueError):
    """A blueprint was given both another blueprint's network and a NetworkSpec of its own."""


SpecT = TypeVar("SpecT", bound=BaseModel)


def share_network(scope: Construct, spec: SpecT, network: Network, instance_types: Sequence[str]) -> SpecT:
    """`spec` re-validated against `network` (another blueprint's `.network` in the same stack), whose private
    subnets will also host `instance_types`. A NetworkSpec of the spec's own (anything but the default) is refused by
    name, as is a network of another stack (a cross-stack reference Terraform cannot resolve)."""
    own: NetworkSpec = getattr(spec, "network")  # noqa: B009  (every blueprint spec has one; SpecT cannot say so)
    default = NetworkSpec().model_dump(exclude={"region"})
    conflicting = sorted(k for k, v in own.model_dump(exclude={"region"}).items() if default[k] != v)
    if conflicting:
        raise NetworkConflictError(
            f"{scope.node.path}: network: given both network= (the network of {network.owner}) and "
            f"{', '.join(f'network.{k}' for k in conflicting)} in the spec. Fix: drop them from the spec (the shared "
            "network decides), or drop network= to build a network of its own."
        )
    if TerraformStack.of(network) is not TerraformStack.of(scope):
        raise NetworkConflictError(
            f"{scope.node.path}: network: {network.owner} is in stack {TerraformStack.of(network).node.id!r}, not in "
            f"{TerraformStack.of(scope).node.id!r}. Fix: add both blueprints to one stack, or pass "
            "NetworkSpec(vpc_id=..., private_subnet_ids=...) with the other stack's ids."
        )
    owner = network.node.scope
    if network.host(instance_types) and isinstance(owner, Construct) and hasattr(owner, "hints"):
        record_hints(owner, owner.hints())  # its summary names the AZ requirements, now with these types
    return type(spec).model_validate({**dict(spec), "network": network.spec})


def network_summary(scope: Construct, network: Network) -> tuple[str, ...]:
    """A blueprint's summary line of its network: whose it is when shared, else how a created VPC picks its AZs."""
    if network.node.scope is not scope:
        return (f"network: {network.owner}'s (no VPC or NAT of its own)",)
    return tuple(filter(None, [network.zones_summary]))
