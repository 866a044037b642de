"""Pure transforms: Narwhals frames in, Narwhals frames out; no IO, no Dagster, no environment."""
