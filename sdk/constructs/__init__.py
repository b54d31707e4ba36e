"""cdktf constructs, one per resource group. Each takes a spec and exposes its resources as attributes."""

from sdk.node import configure_jsii_node

configure_jsii_node()
