"""The Dagster code location: thin assets over lakehouse IO and pure transforms."""
