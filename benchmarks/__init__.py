"""Benchmarks: each measures plantlake and a peer on the same data in the same run and prints the ratio."""
