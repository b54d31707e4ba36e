"""gpu-blueprints SDK: typed specs, GPU catalog and cdktf constructs for GPU infrastructure on AWS."""

from importlib.metadata import PackageNotFoundError, version

from sdk import fast_import
from sdk.node import configure_jsii_node

try:
    __version__ = version("gpu-blueprints")  # pyproject.toml's: the one version source
except PackageNotFoundError:  # a checkout used without installing it
    __version__ = "0+unknown"

# Cheap: the AWS provider's submodules load on first use when anyone imports it (sdk/fast_import.py).
fast_import.install()
# Cheap too (sets an environment variable): jsii starts Node on the first cdktf import, whatever imports it.
configure_jsii_node()
