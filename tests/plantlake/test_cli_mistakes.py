"""Every mistake a user can make on the command line is one line with a documented exit code, never a traceback.

The table runs each mistake through click's CliRunner (exceptions caught, as a user would see them) and checks
the exit code against `plantlake --help`'s table, that the exception is click's SystemExit (nothing escaped),
that no traceback is printed, and that the message names the problem."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plantlake import Lake
from plantlake.cli import EXIT_CODES, main
from simulator import FaultRates, PlantConfig, simulate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A small built lake, its landing folder, an empty folder, a file and a path that does not exist."""
    base = tmp_path_factory.mktemp("mistakes")
    landing, root = base / "landing", base / "lake"
    simulate(PlantConfig(days=4, lines=1, machines_per_line=2, seed=3, fault_rates=FaultRates.none()), landing)
    outcome = Lake(root).run(landing, echo=lambda _: None)
    assert outcome.success, outcome.failure
    (base / "empty").mkdir()
    (base / "afile").write_text("not a lake")
    lot = Lake(root).read("silver.fct_genealogy_edges", columns=["child_node_id"])["child_node_id"]
    lot = next(n for n in lot.to_list() if n.startswith("LOT-"))
    return {"lake": str(root), "landing": str(landing), "empty": str(base / "empty"), "file": str(base / "afile"),
            "missing": str(base / "no" / "such" / "lake"), "lot": lot}


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args)


# (arguments after `plantlake`, exit code, words the message must contain); {lake} {empty} {file} {missing}
# {landing} {lot} are filled from `places`. Exit codes as `plantlake --help` documents them.
MISTAKES = [
    # tables and SQL
    ("--lake {lake} history gold.nope", 1, "no table 'gold.nope' in the catalog"),
    ("--lake {lake} history gold.kpi_dayly", 1, "did you mean gold.kpi_daily"),
    ("--lake {lake} history", 2, "Missing argument 'TABLE'"),
    ("--lake {lake} history gold.kpi_daily --limit 0", 2, "'--limit': 0 is not in the range"),
    ("--lake {lake} sql 'select * from gold.nope'", 1, "Table with name nope does not exist"),
    ("--lake {lake} sql 'selec 1'", 1, "SQL failed: Parser Error"),
    ("--lake {empty} sql 'select * from gold.kpi_daily'", 1, "has no tables yet"),
    ("--lake {lake} maintain --table gold.nope", 1, "no table 'gold.nope' in the catalog"),
    ("--lake {empty} maintain --table gold.kpi_daily", 1, "gold.kpi_daily has not been written"),
    # stock
    ("--lake {lake} stock --as-of yesterday", 1, "as_of 'yesterday' is not a version number or an ISO 8601"),
    ("--lake {lake} stock --as-of 2026-13-45", 1, "as_of '2026-13-45' is not"),
    ("--lake {lake} stock --material NO-SUCH", 1, "material 'NO-SUCH' is not in silver.dim_material"),
    ("--lake {lake} stock --location NO-SUCH", 1, "location 'NO-SUCH' is not in silver.dim_location"),
    ("--lake {lake} stock --lot NO-SUCH", 1, "lot 'NO-SUCH' has no line in gold.fct_inventory_ledger"),
    ("--lake {lake} stock --format yaml", 2, "'yaml' is not one of"),
    ("--lake {lake} stock --nope", 2, "No such option '--nope'"),
    # kpi
    ("--lake {lake} kpi --kpi nope", 1, "unknown KPI nope"),
    ("--lake {lake} kpi --kpi otif --scope line", 1, "otif is kept per customer, site; it has no line rows"),
    ("--lake {lake} kpi --kpi oee --scope bogus", 1, "unknown scope type 'bogus'"),
    ("--lake {lake} kpi --kpi oee --scope line:", 1, "has no id after the colon"),
    ("--lake {lake} kpi --kpi oee --from 2026-02-01 --to 2026-01-01", 1, "--from 2026-02-01 is after --to 2026-01-01"),
    ("--lake {lake} kpi --kpi oee --grain year", 2, "'year' is not one of 'shift', 'day', 'week', 'month'"),
    ("--lake {lake} kpi --kpi oee --scope machine:NO-SUCH", 1, "no machine 'NO-SUCH' in gold.kpi_daily"),
    ("--lake {lake} kpi --kpi otif --grain shift", 1, "only equipment KPIs (TEEP excepted) have a shift grain"),
    ("--lake {lake} kpi --kpi oee --from 2026-02-30", 2, "Invalid value for '--from'"),
    # genealogy
    ("--lake {lake} trace NO-SUCH-LOT", 1, "'NO-SUCH-LOT' is not in the genealogy"),
    ("--lake {lake} trace {lot} --max-depth -1", 2, "'--max-depth': -1 is not in the range"),
    ("--lake {lake} trace {lot} --direction sideways", 2, "'sideways' is not one of 'backward', 'forward', 'both'"),
    ("--lake {lake} trace {lot} --from 2026-02-01 --to 2026-01-01", 1, "is after --to"),
    ("--lake {lake} trace {lot} --output {file}/trace.json", 1, "is a file, not a folder"),
    ("--lake {lake} recall NO-SUCH", 1, "'SUP:NO-SUCH' is not in the genealogy"),
    # operations
    ("--lake {lake} run --source /no/such/folder", 1, "landing folder /no/such/folder does not exist"),
    ("--lake {lake} ingest --source /no/such", 1, "landing folder /no/such does not exist"),
    ("--lake {lake} run --source {file}", 2, "is a file"),
    ("--lake {missing} demo --out {file} --live-seconds 0", 2, "Invalid value for '--out'"),
    # the lake itself
    ("--lake {file} tables", 2, "Invalid value for '--lake'"),
    ("--lake {file} kpi --kpi oee", 2, "is a file"),
    ("--lake {empty} stock", 1, "run `plantlake run` first"),
    ("--lake {empty} kpi --kpi oee", 1, "run `plantlake run` first"),
    ("--lake {empty} trace LOT-0000001", 1, "run `plantlake run`"),
    ("--lake {missing} history gold.kpi_daily", 1, "has not been written"),
    # the command line
    ("frobnicate", 2, "No such command 'frobnicate'"),
    ("api-reference extra-arg", 2, "Got unexpected extra argument (extra-arg)"),
    ("catalog --format xml", 2, "'xml' is not one of 'markdown', 'json'"),
    ("--engine nope tables", 2, "'nope' is not one of 'polars', 'spark'"),
    ("--log-level loud tables", 2, "'loud' is not one of"),
]

# valid questions with no answer: exit 0, the reason as `Note: ...` on standard error
EMPTY_ANSWERS = [
    ("--lake {empty} tables", "the lake at {empty} has no tables yet"),
    ("--lake {missing} tables", "there is no lake at {missing} yet"),
    ("--lake {empty} maintain", "nothing to maintain"),
    ("--lake {lake} kpi --kpi oee --from 2030-01-01", "no oee rows for the site from 2030-01-01 on"),
    ("--lake {lake} stock --as-of 2000-01-01", "no ledger lines for the plant up to 2000-01-01"),
]


def test_the_table_is_long_enough() -> None:
    assert len(MISTAKES) >= 30
    assert {code for _, code, _ in MISTAKES} == {1, 2}


@pytest.mark.parametrize(("command", "code", "message"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_mistake_is_one_line_with_its_exit_code(places: dict[str, str], command: str, code: int,
                                                   message: str) -> None:
    import shlex

    result = invoke(shlex.split(command.format(**places)))
    assert result.exit_code == code, (result.output, result.exception)
    assert code in EXIT_CODES
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert message.format(**places) in errors[0], result.stderr
    if code == 1:  # the library's and the command's own errors: exactly one line, nothing on standard output
        assert result.stderr.splitlines() == errors and result.stdout == "", result.output


@pytest.mark.parametrize(("command", "message"), EMPTY_ANSWERS, ids=[m[0] for m in EMPTY_ANSWERS])
def test_a_valid_question_without_rows_says_why_and_exits_0(places: dict[str, str], command: str,
                                                            message: str) -> None:
    import shlex

    result = invoke(shlex.split(command.format(**places)))
    assert result.exit_code == 0, result.output
    assert result.exception is None and "Traceback" not in result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("Note: ")]
    assert len(notes) == 1 and message.format(**places) in notes[0], result.stderr
    assert result.stdout == ""  # a table with no rows prints nothing; the note says why


def test_json_output_stays_parseable_when_the_answer_is_empty(places: dict[str, str]) -> None:
    result = invoke(["--lake", places["lake"], "kpi", "--kpi", "oee", "--from", "2030-01-01", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert result.stderr.startswith("Note: ")
    empty = invoke(["--lake", places["empty"], "tables", "--format", "csv"])
    assert empty.exit_code == 0 and empty.stdout.startswith("name,layer,rows")


def test_maintain_accepts_the_names_tables_prints(places: dict[str, str]) -> None:
    listed = json.loads(invoke(["--lake", places["lake"], "tables", "--format", "json"]).stdout)
    names = [row["name"] for row in listed]
    assert "bronze.machine_signals" in names
    lake = Lake(places["lake"])
    for name in names:  # every printed name resolves to a table this lake has
        assert lake.store.exists(lake.store.spec(name).name), name
    picked = ["bronze.machine_signals", "silver.dim_machine", "gold.kpi_daily"]
    result = invoke(["--lake", places["lake"], "maintain", *(arg for n in picked for arg in ("--table", n))])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == picked
    bare = invoke(["--lake", places["lake"], "maintain", "--table", "dim_machine"])
    assert bare.exit_code == 0 and bare.stdout.startswith("silver.dim_machine:")


def test_an_internal_error_is_one_line_exit_3_and_verbose_shows_it(places: dict[str, str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Lake) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(Lake, "tables", broken)
    result = invoke(["--lake", places["lake"], "tables"])
    assert result.exit_code == 3 and isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [
        "Error: internal error, RuntimeError: boom; second line (a bug; rerun with --verbose for the traceback)"]
    verbose = invoke(["--verbose", "--lake", places["lake"], "tables"])
    assert isinstance(verbose.exception, RuntimeError)  # the traceback is the user's to see


@pytest.mark.parametrize(("raised", "code", "message"), [
    (PermissionError(13, "Permission denied", "/x/lake"), 1, "Error: Permission denied: /x/lake"),
    (KeyboardInterrupt(), 130, "Interrupted."),
])
def test_os_errors_and_interrupts_have_their_own_codes(places: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                       raised: BaseException, code: int, message: str) -> None:
    def broken(self: Lake) -> None:
        raise raised

    monkeypatch.setattr(Lake, "tables", broken)
    result = invoke(["--lake", places["lake"], "tables"])
    assert result.exit_code == code and isinstance(result.exception, SystemExit)
    assert message in result.stderr and "Traceback" not in result.output


def test_exit_codes_are_documented_in_help_and_readme() -> None:
    text = invoke(["--help"]).output
    assert "Exit codes:" in text and "PLANTLAKE_LOG_LEVEL" in text
    for code in EXIT_CODES:
        assert re.search(rf"^\s+{code}\s", text, flags=re.MULTILINE), code
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Command line"):readme.index("## Settings")]
    for code in EXIT_CODES:
        assert f"| {code} |" in section, code
    settings = readme[readme.index("## Settings"):]
    assert "| `PLANTLAKE_LOG_LEVEL` |" in settings


def test_warnings_are_one_line_and_a_library_warning_shows_only_when_verbose(
        places: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    from plantlake import PlantlakeWarning

    original = Lake.tables

    def tables(self: Lake) -> object:
        warnings.warn("a library's preview feature", UserWarning)  # once shown inside the recorder: looped forever
        warnings.warn("gold.kpi_daily v3 is withheld\nits checks failed", PlantlakeWarning)
        return original(self)

    monkeypatch.setattr(Lake, "tables", tables)
    result = invoke(["--lake", places["lake"], "tables", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)
    assert result.stderr.splitlines() == ["Warning: gold.kpi_daily v3 is withheld; its checks failed"]
    verbose = invoke(["--verbose", "--lake", places["lake"], "tables", "--format", "json"])
    assert "UserWarning at " in verbose.stderr and "a library's preview feature" in verbose.stderr
