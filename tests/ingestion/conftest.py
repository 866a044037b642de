"""Fixtures: a lake with a little master data, and an empty landing folder."""

from landing_files import landing, master_lake  # noqa: F401  (fixtures, registered by importing them here)
