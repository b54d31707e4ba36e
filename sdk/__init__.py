"""gpu-blueprints SDK: typed specs, GPU catalog and cdktf constructs for GPU infrastructure on AWS."""

__version__ = "0.1.0"
