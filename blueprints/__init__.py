"""Blueprints: whole GPU systems composed from sdk constructs."""
