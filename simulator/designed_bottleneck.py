"""An explicitly designed bottleneck per line (`PlantConfig.bottleneck_factor` > 1): one machine of each line
(drawn from [seed, 62, line] among the middle machines - not the first, which every released order queues
at, nor the last, which semi-finished orders skip) gets ideal cycle times
`bottleneck_factor` times longer, in the routings too, so planners see it. With the default 1.0 the master
data are exactly as before."""

from __future__ import annotations

import numpy as np


def designed_position(seed: int, line_index: int, machines_per_line: int) -> int:
    """A middle machine when the line has three or more (one before it feeds it, one after it follows)."""
    if machines_per_line < 3:
        return 0
    return 1 + int(np.random.default_rng([seed, 62, line_index]).integers(machines_per_line - 2))


def apply_bottleneck_factor(cfg, times: dict[tuple[str, str], float], machine_id_of) -> dict[tuple[str, str], float]:
    """`times` (material, machine) -> seconds with the designed machines' times stretched."""
    factor = getattr(cfg, "bottleneck_factor", 1.0)
    if factor == 1.0:
        return times
    slowed = {machine_id_of(line, designed_position(cfg.seed, line, cfg.machines_per_line))
              for line in range(cfg.lines)}
    return {key: round(seconds * factor, 1) if key[1] in slowed else seconds for key, seconds in times.items()}
