"""gpu-blueprints SDK: typed specs, GPU catalog and cdktf constructs for GPU infrastructure on AWS.

Importing it (or sdk.jobs, sdk.specs) has no side effects: the jsii Node setup and the lazy AWS provider come with
the engine (sdk/constructs/engine.py), the one module that imports cdktf.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gpu-blueprints")  # pyproject.toml's: the one version source
except PackageNotFoundError:  # a checkout used without installing it
    __version__ = "0+unknown"
