"""Subcommands of the plantlake command line, one module per domain."""
