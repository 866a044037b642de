"""Production flow assets: operation facts, WIP over time and bottlenecks per line and shift (gold)."""
