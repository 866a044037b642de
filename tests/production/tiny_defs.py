"""A one-op job and a schedule for the PostgreSQL instance test (the daemon loads this, not the whole project)."""

import dagster as dg


@dg.op
def say_done() -> str:
    return "done"


@dg.job(tags={"plantlake/lake": "/lakes/postgres-test"})
def tiny_job() -> None:
    say_done()


tiny_schedule = dg.ScheduleDefinition(name="postgres_test_schedule", job=tiny_job, cron_schedule="0 3 * * *",
                                      execution_timezone="UTC")

defs = dg.Definitions(jobs=[tiny_job], schedules=[tiny_schedule])
