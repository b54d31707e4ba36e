"""cdktf constructs, one per resource group. Each takes a spec and exposes its resources as attributes.

Engine names (cdktf, constructs, the AWS provider) come from sdk.constructs.engine only.
"""
