"""Blueprints: whole GPU systems composed from sdk constructs."""

from sdk import fast_import

# Until every blueprint takes its engine names from sdk.constructs.engine (which does this itself), one that imports
# the AWS provider before any engine name must still get it lazily. Imports neither jsii nor cdktf, sets no variable.
fast_import.install()
