import hashlib
from pathlib import Path

from sim_test_support import HEAVY_FAULTS, small_config

from simulator import simulate


def file_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path):
    cfg = small_config(days=3, fault_rates=HEAVY_FAULTS)
    first = simulate(cfg, tmp_path / "a")
    second = simulate(cfg, tmp_path / "b")
    hashes_a, hashes_b = file_hashes(tmp_path / "a"), file_hashes(tmp_path / "b")
    assert len(hashes_a) > 40
    assert hashes_a == hashes_b
    assert first.counts == second.counts and first.faults == second.faults


def test_different_seed_gives_different_outputs(tmp_path):
    simulate(small_config(days=3, seed=1), tmp_path / "a")
    simulate(small_config(days=3, seed=2), tmp_path / "b")
    hashes_a, hashes_b = file_hashes(tmp_path / "a"), file_hashes(tmp_path / "b")
    differing = [name for name in hashes_a if hashes_a[name] != hashes_b.get(name)]
    assert "signals/2026-01-05.parquet" in differing
    assert "truth/movements.parquet" in differing


def test_result_counts_match_files(clean_run):
    cfg, out, result = clean_run
    mes_lines = sum(len(p.read_text().splitlines()) for p in (out / "mes" / "events").glob("*.ndjson"))
    wms_rows = sum(len(p.read_text().splitlines()) - 1 for p in (out / "wms").rglob("*.csv"))
    b2mml = len(list((out / "mes" / "b2mml").rglob("*.xml")))
    assert result.counts["mes_events"] == mes_lines > 0
    assert result.counts["wms_rows"] == wms_rows > 0
    assert result.counts["b2mml_messages"] == b2mml > 0
    assert result.counts["signal_rows"] == cfg.days * 86400 // cfg.signal_interval_s * 6 * 9
    assert result.counts["transactions"] == mes_lines + wms_rows + result.counts["signal_rows"]
    assert "transactions" in result.summary()
