"""`plantlake listen` (MQTT into bronze, optionally refreshing stock) and `plantlake serve-api` (the HTTP API)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from plantlake.lake import Lake

SPOOL = click.option("--spool", "spool_dir", type=click.Path(file_okay=False, path_type=Path),
                     envvar="PLANTLAKE_SPOOL_DIR", default=Path("spool"), show_default=True,
                     help="Folder for micro-batches while they land (env PLANTLAKE_SPOOL_DIR); a batch a crash "
                          "left there lands at the next start.")


@click.command("listen")
@click.option("--broker", "broker_url", envvar="PLANTLAKE_MQTT_URL", default="mqtt://127.0.0.1:1883",
              show_default=True, help="mqtt://host:port or mqtts://host:port (env PLANTLAKE_MQTT_URL); login and "
              "certificates from PLANTLAKE_MQTT_USERNAME, _PASSWORD, _CA_FILE, _CERT_FILE, _KEY_FILE.")
@click.option("--site", default="+", show_default=True, help="Site level of the topics (+ for every site).")
@click.option("--topic", "topics", multiple=True,
              help="Topic to subscribe (repeatable); default plant/<site>/mes/+ and plant/<site>/wms/+.")
@click.option("--client-id", default="plantlake-listen", show_default=True,
              help="MQTT client id: the broker keeps this session's unacknowledged messages across restarts.")
@click.option("--batch-size", type=click.IntRange(1, 20000), default=5000, show_default=True,
              help="Messages per micro-batch at most (a batch closes when full or --batch-interval after its "
                   "first message, so batches grow only while the listener catches up with a backlog).")
@click.option("--batch-interval", "batch_interval_s", type=click.FloatRange(0.01, 60), default=1.0,
              show_default=True, help="Seconds the oldest waiting message waits for its batch to fill.")
@click.option("--refresh", is_flag=True, help="Extend movements, the ledger and stock from the landed events "
              "(incrementally) in a thread beside the landing, and record each source's freshness.")
@click.option("--refresh-interval", "refresh_interval_s", type=click.FloatRange(0.0), default=2.0,
              show_default=True, help="Least seconds between two refreshes.")
@click.option("--duration", "duration_s", type=click.FloatRange(0.0), default=None,
              help="Stop after this many seconds (default: until Ctrl-C or SIGTERM).")
@SPOOL
@click.pass_obj
def listen_command(lake: Lake, broker_url: str, site: str, topics: tuple[str, ...], client_id: str,
                   batch_size: int, batch_interval_s: float, refresh: bool, refresh_interval_s: float,
                   duration_s: float | None, spool_dir: Path) -> None:
    """Land MES and WMS events from MQTT in bronze: QoS 1, micro-batches, acknowledged after they are committed
    (exactly once in bronze across broker restarts and crashes). One line per batch and per refresh."""
    from ingestion.mqtt.listener import MqttListener
    from ingestion.mqtt.settings import broker_settings, topics_for

    settings = broker_settings(broker_url)
    chosen = topics_for(site, topics)
    listener = MqttListener(settings, chosen, lake.store, spool_dir, client_id=client_id, batch_size=batch_size,
                            batch_interval_s=batch_interval_s)
    refresher = _refresher(lake, spool_dir) if refresh else None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if duration_s is not None:
        threading.Timer(duration_s, stop.set).start()
    try:
        listener.start()
    except ConnectionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"listening on {settings.describe()} to {', '.join(chosen)} as {client_id}"
               f"{' (refreshing stock)' if refresher else ''}")
    refreshing = None
    if refresher is not None:
        from pipelines.realtime import RefreshLoop

        refreshing = RefreshLoop(refresher, refresh_interval_s, report=_report_refresh, on_crash=stop.set)
        refreshing.start()

    def after_batch(outcomes) -> None:  # noqa: ANN001
        for o in outcomes:
            click.echo(f"batch {listener.stats.batches}: {o.kind} {o.outcome.rows_read:,} records: "
                       f"{o.outcome.rows_landed:,} landed, {o.outcome.rows_quarantined:,} quarantined, "
                       f"{o.outcome.rows_duplicate:,} duplicate")
            if refreshing is not None:
                refreshing.landed(o.outcome.rows_landed)

    try:
        listener.run(stop, after_batch=after_batch)
    finally:
        listener.stop()
        if refreshing is not None:
            try:
                refreshing.finish()  # one last refresh of what landed since the previous one
            except Exception as exc:  # noqa: BLE001 - the listener stopped for it: one clear line, not a traceback
                raise click.ClickException(f"the stock refresh failed, so the listener stopped (what landed is "
                                           f"in bronze; `plantlake run` refreshes it): {exc}") from exc
    click.echo(listener.stats.line())


def _report_refresh(outcome) -> None:  # noqa: ANN001
    if outcome.busy:
        click.echo(f"refresh put off to the next round: {outcome.busy}", err=True)
        return
    lag = ""
    if not outcome.freshness.is_empty():
        lag = f", landed -> gold p95 {outcome.freshness['landed_to_gold_p95_s'].max():.1f} s"
    click.echo(f"refresh {outcome.run_id[:8]}: {'published' if outcome.published else 'NOT published'} "
               f"{outcome.published} table versions in {outcome.seconds:.1f} s{lag}", err=not outcome.success)


def _refresher(lake: Lake, spool_dir: Path):  # noqa: ANN202
    from pipelines.realtime import InventoryRefresher

    return InventoryRefresher(lake.root, spool_dir)


@click.command("serve-api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--secrets", "secrets_file", type=click.Path(dir_okay=False, path_type=Path),
              envvar="PLANTLAKE_API_SECRETS", required=True,
              help="API keys file (env PLANTLAKE_API_SECRETS): one `client_id:sha256-of-key` per line, readable "
                   "by its owner only.")
@click.option("--rate-limit", "rate_per_minute", type=click.IntRange(1), default=600, show_default=True,
              help="Requests per minute per API key before 429.")
@SPOOL
@click.pass_obj
def serve_api_command(lake: Lake, host: str, port: int, secrets_file: Path, rate_per_minute: int,
                      spool_dir: Path) -> None:
    """Serve the HTTP API: POST MES and WMS events (single or batches, with an Idempotency-Key), each record's
    verdict in the answer; OpenAPI at /openapi.json, docs at /docs."""
    import uvicorn

    from plantlake.api_server import ApiSettings, create_app

    app = create_app(ApiSettings(lake_root=lake.root, spool_root=spool_dir, secrets_file=secrets_file,
                                 rate_per_minute=rate_per_minute))
    uvicorn.run(app, host=host, port=port, log_level="warning")
