"""The demo writes only to folders it made: a folder holding anything else is refused and left untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from plantlake.cli import main
from plantlake.demo_folders import MARKER, FolderNotOursError, claim_demo_folders


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("foreign", ["lake", "landing"])
def test_the_demo_refuses_a_folder_it_did_not_create_and_touches_nothing(tmp_path: Path, foreign: str) -> None:
    lake, landing = tmp_path / "lake", tmp_path / "landing"
    user = lake if foreign == "lake" else landing
    (user / "bronze").mkdir(parents=True)
    (user / "bronze" / "precious.parquet").write_bytes(b"the user's data")
    (user / "notes.txt").write_text("keep me")
    before = snapshot(tmp_path)

    result = CliRunner().invoke(main, ["--lake", str(lake), "demo", "--out", str(landing), "--days", "1",
                                       "--live-seconds", "0"])

    assert result.exit_code == 1
    assert f"refusing to use {user}" in result.output and "Traceback" not in result.output
    assert snapshot(tmp_path) == before
    assert not (lake / MARKER).exists() and not (landing / MARKER).exists()  # the other folder was not claimed either


def test_a_folder_the_demo_made_is_emptied_on_a_rerun_and_new_ones_are_marked(tmp_path: Path) -> None:
    ours, new = tmp_path / "ours", tmp_path / "new" / "lake"
    claim_demo_folders({"lake": ours})
    (ours / "gold" / "kpi_daily").mkdir(parents=True)
    (ours / "gold" / "kpi_daily" / "part.parquet").write_bytes(b"old demo output")

    claim_demo_folders({"lake": ours, "landing folder": new})

    assert [p.name for p in ours.iterdir()] == [MARKER]
    assert [p.name for p in new.iterdir()] == [MARKER]


def test_an_empty_folder_is_accepted_and_a_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    claim_demo_folders({"lake": empty})
    assert (empty / MARKER).is_file()
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(FolderNotOursError, match="is a file"):
        claim_demo_folders({"lake": afile})
    assert afile.read_text() == "x"


def test_the_same_folder_for_lake_and_landing_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--lake", str(tmp_path / "x"), "demo", "--out", str(tmp_path / "x")])
    assert result.exit_code == 1 and "must be different folders" in result.output
    assert not (tmp_path / "x").exists()
