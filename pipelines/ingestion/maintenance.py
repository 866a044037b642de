"""Table maintenance: compact the small files micro-batches leave, vacuum what no recent version needs, and
checkpoint so opening a table stays fast however many commits it has."""


import dagster as dg

from pipelines.resources import LakeResource
from pipelines.production import lake_writer_tags

RETENTION_HOURS = 168


@dg.op(description="optimize (compact), vacuum and checkpoint every table")
def maintain_tables(context: dg.OpExecutionContext, lake: LakeResource) -> dict[str, int]:
    delta = lake.lake()
    compacted = {}
    for spec in delta.tables():
        metrics = delta.optimize(spec.name)
        removed = delta.vacuum(spec.name, retention_hours=RETENTION_HOURS)
        delta.checkpoint(spec.name)
        compacted[spec.name] = int(metrics["numFilesRemoved"])
        context.log.info(f"{spec.name}: {metrics['numFilesRemoved']} -> {metrics['numFilesAdded']} files, "
                         f"vacuumed {len(removed)}, checkpoint at version {delta.version(spec.name)}")
    return compacted


@dg.job(tags=lake_writer_tags(), description="Nightly maintenance of every table: compaction, vacuum (7 days of time travel kept), "
                    "checkpoint.")
def lake_maintenance():
    maintain_tables()


nightly_maintenance = dg.ScheduleDefinition(name="nightly_maintenance", job=lake_maintenance, cron_schedule="30 2 * * *",
                                            execution_timezone="UTC",
                                            default_status=dg.DefaultScheduleStatus.RUNNING)
