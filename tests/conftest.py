"""Shared pytest fixtures. Section owners: the moto server fixtures belong to the sdk.jobs work."""
