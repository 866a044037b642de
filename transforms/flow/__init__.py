"""Production flow: equipment state intervals, per-operation waiting and working times, WIP over time,
Little's law and shifting-bottleneck detection (Roser, Nakano and Tanaka 2002)."""
