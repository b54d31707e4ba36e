"""Blueprints: whole GPU systems composed from sdk constructs."""

import sdk  # noqa: F401  (first: jsii on the bundled Node, the AWS provider imported lazily)
