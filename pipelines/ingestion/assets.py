"""Bronze landing: one multi-asset lands every new MES, WMS and historical signal file of the landing folder
under its contract; its blocking checks hold the contracts (row conservation per file, quarantine share per
table)."""


from collections import Counter

import dagster as dg

from data_contracts.mes import MES_CONTRACTS
from ingestion.landing import FileOutcome, Lander
from ingestion.replay import replay_quarantined
from ingestion.signal_files import land_signal_files
from lakehouse.catalog import CATALOG
from pipelines.master_data.assets import MASTER_DATA_ASSETS
from pipelines.checks import table_key
from pipelines.resources import LakeResource, LandingResource

CONTRACT_TABLES = ["wms_transactions", *MES_CONTRACTS, "machine_signals"]
BOOKKEEPING_TABLES = ["quarantine_wms_transactions", "quarantine_mes_events", "quarantine_machine_signals",
                      "ingest_log", "dirty_partitions", "quarantine_replays"]
MAX_QUARANTINE_SHARE = 0.02



def _spec(table: str) -> dg.AssetSpec:
    return dg.AssetSpec(table_key(table), description=CATALOG[table].description, group_name="bronze",
                        kinds={"delta", "polars"}, owners=["team:plant-data"],
                        deps=[a.key for a in MASTER_DATA_ASSETS], skippable=True)


def _checks() -> list[dg.AssetCheckSpec]:
    checks = [dg.AssetCheckSpec("contract", asset=table_key(t), blocking=True,
                                description=f"rows breaking the {t} contract stay under "
                                            f"{MAX_QUARANTINE_SHARE:.0%} of the rows read")
              for t in CONTRACT_TABLES]
    checks.append(dg.AssetCheckSpec("rows_conserved", asset=table_key("ingest_log"), blocking=True,
                                    description="for every file: rows read = landed + quarantined + duplicates"))
    return checks


@dg.multi_asset(specs=[_spec(t) for t in (*CONTRACT_TABLES, *BOOKKEEPING_TABLES)], check_specs=_checks(),
                can_subset=False, name="land_landing_files")
def land_landing_files(context: dg.AssetExecutionContext, lake: LakeResource, landing: LandingResource):
    """Land every new file in the landing folder: good rows in bronze, bad rows in quarantine, each file
    logged once by its sha256 (a re-delivered file, even renamed, lands nothing)."""
    replay = replay_quarantined(lake.landing_lake(), landing_root=landing.root())
    if replay.attempted:
        context.log.info(replay.summary())
    lander = Lander(lake.landing_lake(), landing.root(), run_id=f"dagster-{context.run.run_id}")

    def progress(o: FileOutcome) -> None:
        context.log.debug(f"{o.source_file}: {o.status} read={o.rows_read} landed={o.rows_landed} "
                          f"quarantined={o.rows_quarantined} duplicate={o.rows_duplicate}")

    outcomes = [*lander.land_all(progress=progress), *land_signal_files(lander, progress=progress)]
    for table in (*CONTRACT_TABLES, *BOOKKEEPING_TABLES):
        stats = lander.table_stats.get(table, Counter())
        yield dg.MaterializeResult(asset_key=table_key(table), metadata={
            "rows_landed_this_run": stats["landed"], "rows_quarantined_this_run": stats["quarantined"],
            "rows_duplicate_this_run": stats["duplicate"], "files_this_run": len(outcomes),
            "quarantined_rows_replayed_and_landed": replay.landed})
    yield from contract_check_results(lander.table_stats, outcomes)


def contract_check_results(table_stats: dict[str, Counter], outcomes: list[FileOutcome]):
    for table in CONTRACT_TABLES:
        stats = table_stats.get(table, Counter())
        offered = stats["landed"] + stats["quarantined"] + stats["duplicate"]
        share = stats["quarantined"] / offered if offered else 0.0
        failures = {k.removeprefix("failed: "): v for k, v in stats.items() if k.startswith("failed: ")}
        yield dg.AssetCheckResult(asset_key=table_key(table), check_name="contract",
                                  passed=share <= MAX_QUARANTINE_SHARE,
                                  metadata={"rows_landed": stats["landed"], "rows_quarantined": stats["quarantined"],
                                            "rows_duplicate": stats["duplicate"], "quarantine_share": share,
                                            "failed_expectations": dg.MetadataValue.json(failures)})
    unbalanced = [o.source_file for o in outcomes if not o.conserved]
    rejected = [f"{o.source_file}: {o.error}" for o in outcomes if o.status == "rejected"]
    yield dg.AssetCheckResult(asset_key=table_key("ingest_log"), check_name="rows_conserved", passed=not unbalanced,
                              metadata={"files": len(outcomes), "unbalanced_files": dg.MetadataValue.json(unbalanced),
                                        "rejected_files": dg.MetadataValue.json(rejected),
                                        "rows_read": sum(o.rows_read for o in outcomes)})


# Written by the OPC UA collector process (`plantlake collect`), not by a Dagster run: an external asset, so the
# lineage into the KPIs shows where unknown equipment time comes from.
machine_signal_gaps = dg.AssetSpec(
    table_key("machine_signal_gaps"), description=CATALOG["machine_signal_gaps"].description,
    group_name="opcua_collector", kinds={"delta", "opcua"}, owners=["team:plant-data"])
