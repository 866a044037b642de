"""Freshness: every gold table says when it is stale. A freshness policy on each gold asset warns after
`WARN_AFTER` and fails after `STALE_AFTER` without an update; Dagster's freshness daemon (on by default since
1.12) evaluates them, and the UI shows each gold table's freshness."""

from datetime import timedelta

import dagster as dg

STALE_AFTER = timedelta(hours=26)  # a day's data plus the time to land it
WARN_AFTER = timedelta(hours=13)
GOLD_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=STALE_AFTER, warn_window=WARN_AFTER)


def with_gold_freshness(defs: dg.Definitions) -> dg.Definitions:
    """The definitions with the freshness policy attached to every gold asset."""
    return defs.map_asset_specs(
        func=lambda spec: dg.apply_freshness_policy(spec, GOLD_FRESHNESS) if spec.key.path[0] == "gold" else spec)
