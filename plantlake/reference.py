"""The API reference (`docs/api.md`), rendered from the public API's signatures and docstrings, so the document
cannot drift from the code: `plantlake api-reference > docs/api.md`; a test checks it is current."""

from __future__ import annotations

import inspect

import plantlake
from plantlake import as_of, filters
from plantlake.kpi import GRAINS
from plantlake.lake import READ_ENGINES, Lake

SECTIONS = {
    "What is there": ["tables", "schema", "describe", "history", "status"],
    "Reading": ["read", "sql", "duckdb"],
    "Questions": ["kpi", "kpi_definitions", "stock", "trace", "trace_graph", "trace_result", "recall",
                  "recall_result"],
    "Looking ahead at the line side": ["material_requirements", "shortages", "pick_suggestions"],
    "Production flow": ["bottleneck", "schedule_suggestion", "machine_lots", "operator_lots", "machine_recall"],
    "Traceability out (GS1 EPCIS 2.0)": ["epcis", "trace_epcis", "recall_epcis"],
    "Models": ["quality_what_if"],
    "Quarantine": ["quarantine", "replay_quarantine"],
    "Operations": ["run", "ingest", "maintain"],
}


def _signature(name: str, function: object) -> str:
    """`Lake.name(params) -> returns`, annotations as written in the source (they are strings here)."""
    signature = inspect.signature(function)
    parts, keyword_only_marked = [], False
    for parameter in list(signature.parameters.values())[1:]:
        if parameter.kind is parameter.KEYWORD_ONLY and not keyword_only_marked:
            parts.append("*")
            keyword_only_marked = True
        text = parameter.name
        if parameter.annotation is not parameter.empty:
            text += f": {parameter.annotation}"
        if parameter.default is not parameter.empty:
            text += f" = {parameter.default!r}"
        parts.append(text)
    returns = "" if signature.return_annotation is signature.empty else f" -> {signature.return_annotation}"
    return f"Lake.{name}({', '.join(parts)}){returns}"


def api_markdown() -> str:
    lines = ["# Python API reference", "",
             "Generated from the docstrings by `plantlake api-reference`; do not edit.", "",
             inspect.cleandoc(plantlake.__doc__ or ""), "", "## `Lake`", "", inspect.cleandoc(Lake.__doc__ or ""),
             "", "```python", _signature("__init__", Lake.__init__).replace("Lake.__init__", "Lake").removesuffix(" -> None"),
             "```", ""]
    covered = set()
    for section, names in SECTIONS.items():
        lines += [f"### {section}", ""]
        for name in names:
            function = getattr(Lake, name)
            covered.add(name)
            lines += [f"#### `Lake.{name}`", "", "```python", _signature(name, function), "```", "",
                      inspect.cleandoc(function.__doc__ or "(no docstring)"), ""]
    public = {n for n, v in vars(Lake).items() if callable(v) and not n.startswith("_")}
    if public - covered:
        raise RuntimeError(f"Lake methods missing from the reference sections: {sorted(public - covered)}")
    lines += ["## Types", "", "- `AsOf` = `int | datetime | date | str | None` (see `as_of` below)",
              f"- `ReadEngine` = one of {', '.join(f'`{e}`' for e in READ_ENGINES)}",
              "- `Filter` = `(column, op, value)`", "- `Direction` = `backward`, `forward` or `both`",
              f"- `Grain` = one of {', '.join(f'`{g}`' for g in GRAINS)}", ""]
    lines += ["## `as_of`", "", inspect.cleandoc(as_of.__doc__ or ""), "",
              "## Filters", "", inspect.cleandoc(filters.__doc__ or ""), "",
              f"Operators: {', '.join(f'`{op}`' for op in filters.OPERATORS)}.", "", "## Errors", ""]
    for name in plantlake.__all__:
        item = getattr(plantlake, name)
        if isinstance(item, type) and issubclass(item, Exception):
            bases = ", ".join(b.__name__ for b in item.__bases__)
            lines.append(f"- `{name}({bases})`: {inspect.cleandoc(item.__doc__ or '')}")
    return "\n".join(lines).rstrip() + "\n"
