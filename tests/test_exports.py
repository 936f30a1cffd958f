"""Exports of the termly report (issue 4): CSV, XLSX laid out like the school's table, Markdown,
``--output FILE``, and ``--suppress-below N`` for governors and the public.

Every export is read back (csv, openpyxl, a Markdown table parser) and compared with the report's
JSON. Suppression is attacked from the published output alone: an independent solver tightens
every withheld count's range using every sum the table publishes (the attacker knows ``<N`` is 0 to
N-1 and ``c`` is N or more) and, for small tables, enumerates every possible table outright; no
withheld count may come out as a single value, and none may appear anywhere in the output.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from cli import cli
from ledger.exchange.published import WITHHELD, publish
from ledger.exchange.report_writers import export_report, published_json
from ledger.readmodel import Cell, ClassRow, Counts, PhaseBlock, Report

REPO = Path(__file__).resolve().parent.parent
SEED_CSV = REPO / "data" / "ehcp-data-2023-24.csv"
TERMS = ("T1", "T2", "T3")
STATUSES = ("appropriate", "smaller_steps")
BIG = 10**6


# -- reports built by hand -------------------------------------------------------------------------
def make_report(phases: list[tuple[str, list[tuple[str, list[tuple[str, int, int]]]]]], year: str = "2022-23") -> Report:
    """phases: [(phase, [(class, [(state, appropriate, smaller steps) per term])])] with totals added up."""
    from datetime import datetime, timezone

    blocks, school = [], {t: Counts() for t in TERMS}
    for phase, classes in phases:
        totals = {t: Counts() for t in TERMS}
        rows = []
        for class_id, cells in classes:
            terms = {}
            for t, (state, a, s) in zip(TERMS, cells):
                if state == "recorded" and a + s == 0:
                    state = "not_recorded"
                terms[t] = Cell(state, a if state == "recorded" else 0, s if state == "recorded" else 0, 0)
                if state == "recorded":
                    totals[t] += Counts(a, s)
                    school[t] += Counts(a, s)
            rows.append(ClassRow(class_id, class_id, terms))
        blocks.append(PhaseBlock(phase, rows, totals))
    return Report(year, datetime(2023, 7, 31, 12, tzinfo=timezone.utc), 7, blocks, school)


def seed_report() -> Report:
    phases: dict[str, list[tuple[str, list[tuple[str, int, int]]]]] = {}
    for row in csv.DictReader(SEED_CSV.read_text().splitlines()):
        cells = []
        for n in (1, 2, 3):
            a, s = row[f"t{n}_appropriate"], row[f"t{n}_smaller_steps"]
            cells.append(("not_open", 0, 0) if a == "N/A" else ("not_recorded", 0, 0) if a == "" else ("recorded", int(a), int(s)))
        phases.setdefault(row["phase"], []).append((row["class"], cells))
    return make_report(list(phases.items()))


def report_doc(report: Report) -> dict[str, Any]:
    return json.loads(export_report(report, "json"))  # type: ignore[arg-type]


# -- reading the exports back ----------------------------------------------------------------------------
def cell_pairs_from_json(doc: dict[str, Any]) -> dict[tuple[str, str, str], Any]:
    """(phase, label, term) -> (appropriate, smaller steps) as shown: numbers, markers, 'N/A' or ''."""
    out = {}
    for p in doc["phases"]:
        for c in p["classes"]:
            for t, x in c["terms"].items():
                if x["state"] == "not_open":
                    out[(p["phase"], c["label"], t)] = ("N/A", "N/A")
                elif x["state"] == "not_recorded":
                    out[(p["phase"], c["label"], t)] = ("", "")
                else:
                    out[(p["phase"], c["label"], t)] = (x["appropriate"], x["smaller_steps"])
    return out


def totals_from_json(doc: dict[str, Any]) -> dict[tuple[str, str], Any]:
    out = {(p["phase"], t): (c["appropriate"], c["smaller_steps"]) for p in doc["phases"] for t, c in p["totals"].items()}
    out.update({("Whole school", t): (c["appropriate"], c["smaller_steps"]) for t, c in doc["totals"].items()})
    return {k: tuple("" if v is None else v for v in pair) for k, pair in out.items()}


def read_xlsx(path: Path) -> tuple[dict, dict, dict, Any]:
    """Cells, totals and percentages from a workbook in the school's layout, and its worksheet."""
    ws = load_workbook(path).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    cells, totals, percents = {}, {}, {}
    phase = owner = None
    in_table = False
    for i, row in enumerate(values):
        label = row[0]
        if label is not None and all(v is None for v in row[1:]) and i + 1 < len(values) and values[i + 1][1] == "TERM 1":
            phase, in_table = label, False
        elif label == "Class":
            in_table = True
        elif label in ("Total", "Whole school"):
            owner = phase if label == "Total" else "Whole school"
            for j, t in enumerate(TERMS):
                totals[(owner, t)] = tuple("" if v is None else v for v in row[1 + 2 * j:3 + 2 * j])
            in_table = False
        elif label == "% appropriate":
            for j, t in enumerate(TERMS):
                percents[(owner, t)] = row[1 + 2 * j]
        elif in_table and label is not None:
            for j, t in enumerate(TERMS):
                a, s = row[1 + 2 * j:3 + 2 * j]
                cells[(phase, label, t)] = ("" if a is None else a, "" if s is None else s)
    return cells, totals, percents, ws


def read_markdown(text: str) -> tuple[dict, dict, dict]:
    cells, totals, percents = {}, {}, {}
    section = None
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:]
            continue
        if not line.startswith("| ") or line.startswith("| Class |") or line.startswith("| --- |"):
            continue
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        label, rest = parts[0], parts[1:]
        pairs = {t: (_num(rest[2 * j]), _num(rest[2 * j + 1])) for j, t in enumerate(TERMS)}
        if label == "Total":
            totals.update({(section, t): v for t, v in pairs.items()})
        elif label == "% appropriate":
            percents.update({(section, t): v[0] for t, v in pairs.items()})
        else:
            cells.update({(section, label, t): v for t, v in pairs.items()})
    return cells, totals, percents


def _num(text: str) -> Any:
    return int(text) if text.isdigit() else text


def percent_text(p: Any) -> Any:
    return "" if p is None else p if isinstance(p, str) else f"{p:.1f}%"


# -- unsuppressed exports match the report ------------------------------------------------------------------
@pytest.fixture(params=["seed", "small"])
def report(request: pytest.FixtureRequest) -> Report:
    if request.param == "seed":
        return seed_report()
    return make_report([("KS3/KS4", [("3CW", [("recorded", 6, 0), ("recorded", 5, 1), ("not_recorded", 0, 0)]),
                                     ("4AP", [("not_open", 0, 0), ("recorded", 8, 2), ("recorded", 7, 3)])])])


def test_csv_export_is_the_report_csv_and_reads_back(report: Report) -> None:
    text = export_report(report, "csv")
    doc = report_doc(report)
    rows = list(csv.reader(text.splitlines()))  # type: ignore[union-attr]
    assert rows[0] == ["phase", "class"] + [f"t{n}_{k}" for n in (1, 2, 3) for k in STATUSES]
    shown = {(r[0], r[1], t): (_num(r[2 + 2 * j]), _num(r[3 + 2 * j])) for r in rows[1:] if r[1] != "Total" for j, t in enumerate(TERMS)}
    assert shown == cell_pairs_from_json(doc)
    totals = {(r[0] if r[0] != "Whole school" else "Whole school", t): (_num(r[2 + 2 * j]), _num(r[3 + 2 * j]))
              for r in rows[1:] if r[1] == "Total" for j, t in enumerate(TERMS)}
    assert totals == totals_from_json(doc)


def test_xlsx_export_is_laid_out_like_the_school_table_and_reads_back(report: Report, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(export_report(report, "xlsx"))  # type: ignore[arg-type]
    cells, totals, percents, ws = read_xlsx(path)
    doc = report_doc(report)
    assert cells == cell_pairs_from_json(doc)
    assert totals == totals_from_json(doc)
    for (owner, t), value in percents.items():
        c = doc["totals"][t] if owner == "Whole school" else next(p for p in doc["phases"] if p["phase"] == owner)["totals"][t]
        expected = c["percent_appropriate"]
        assert (value is None and expected is None) or value == pytest.approx(expected / 100, abs=0.0006)
    assert ws.title == report.year and ws["A1"].value == f"EHCP progress {report.year}"
    merged = {str(r) for r in ws.merged_cells.ranges}
    term_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "TERM 1")
    assert {f"B{term_row}:C{term_row}", f"D{term_row}:E{term_row}", f"F{term_row}:G{term_row}"} <= merged
    assert ws.cell(term_row + 1, 2).value == "Pupils making appropriate progress"


def test_markdown_export_reads_back(report: Report) -> None:
    text = export_report(report, "markdown")
    assert isinstance(text, str) and text.startswith(f"# EHCP progress {report.year}\n")
    cells, totals, percents = read_markdown(text)
    doc = report_doc(report)
    assert cells == cell_pairs_from_json(doc)
    assert totals == totals_from_json(doc)
    assert percents[("Whole school", "T1")] == percent_text(doc["totals"]["T1"]["percent_appropriate"])
    for p in doc["phases"]:
        assert percents[(p["phase"], "T2")] == percent_text(p["totals"]["T2"]["percent_appropriate"])


# -- suppression --------------------------------------------------------------------------------------------
def published_systems(doc: dict[str, Any]) -> list[list[tuple[Any, list[Any]]]]:
    """Per term and kind of count, the sums the published table states: [(total, [parts])], values as shown."""
    systems = []
    for t in TERMS:
        for k in STATUSES:
            sums = []
            phase_totals = []
            for p in doc["phases"]:
                parts = [c["terms"][t][k] for c in p["classes"] if c["terms"][t]["state"] == "recorded"]
                total = p["totals"][t][k]
                if parts:
                    sums.append((total, parts))
                    phase_totals.append(total)
            if phase_totals:
                sums.append((doc["totals"][t][k], phase_totals))
            systems.append(sums)
    return systems


def unknowns(sums: list[tuple[Any, list[Any]]], n: int) -> tuple[list[list[Any]], dict[tuple[int, int], list[int]]]:
    """The sums with each withheld entry replaced by a key, and each key's bounds as published.

    A phase total appears in its phase's sum and in the school's: both places are the same unknown."""
    school = len(sums) - 1
    bounds: dict[tuple[int, int], list[int]] = {}
    rows = []
    for i, (total, parts) in enumerate(sums):
        row: list[Any] = []
        for j, value in enumerate([total, *parts]):
            if isinstance(value, int):
                row.append(value)
                continue
            key = (j - 1, 0) if (i == school and j > 0) else (i, j)
            is_total = j == 0 or i == school
            # <N: 0..N-1; c on a class count: N or more (else it would be <N); c on a total: anything
            bounds.setdefault(key, [0, n - 1] if value == f"<{n}" else [0, BIG] if is_total else [n, BIG])
            row.append(key)
        rows.append(row)
    return rows, bounds


def attack(doc: dict[str, Any], n: int) -> list[str]:
    """Every withheld count an attacker can pin to one value from the published JSON alone.

    Each withheld count is an unknown (bounds as in :func:`unknowns`); each published sum an equation;
    bounds are tightened over all equations until nothing changes."""
    found = []
    for sums in published_systems(doc):
        rows, bounds = unknowns(sums, n)

        def lo(v: Any) -> int:
            return v if isinstance(v, int) else bounds[v][0]

        def hi(v: Any) -> int:
            return v if isinstance(v, int) else bounds[v][1]

        changed = True
        while changed:
            changed = False
            for row in rows:
                total, parts = row[0], row[1:]
                if isinstance(total, tuple):
                    new = [max(lo(total), sum(lo(p) for p in parts)), min(hi(total), sum(hi(p) for p in parts))]
                    if new != bounds[total]:
                        bounds[total], changed = new, True
                for idx, p in enumerate(parts):
                    if isinstance(p, tuple):
                        rest = parts[:idx] + parts[idx + 1:]
                        new = [max(lo(p), lo(total) - sum(hi(r) for r in rest)),
                               min(hi(p), hi(total) - sum(lo(r) for r in rest))]
                        if new != bounds[p]:
                            bounds[p], changed = new, True
        found += [f"{key} pinned to {b}" for key, b in bounds.items() if b[0] >= b[1]]
    return found


def subtraction_attack(doc: dict[str, Any]) -> list[str]:
    """A withheld count that is the only withheld entry of a sum: total minus shown parts gives it."""
    out = []
    for sums in published_systems(doc):
        for total, parts in sums:
            hidden = [v for v in [total, *parts] if not isinstance(v, int)]
            if len(hidden) == 1:
                out.append(f"{total} = {parts}")
    return out


def brute_force(doc: dict[str, Any], n: int, cap: int = 40, most: int = 6) -> list[str]:
    """For small systems: every integer value of the withheld counts that fits what is published."""
    out = []
    for sums in published_systems(doc):
        rows, bounds = unknowns(sums, n)
        keys = list(bounds)
        shown = [v for r in rows for v in r if isinstance(v, int)]
        top = max(shown, default=cap)  # no withheld count is larger than a shown total
        if top > cap:  # clipping the values at the cap would pin counts that are not pinned
            continue
        ranges = [range(b[0], min(b[1], top) + 1) for b in bounds.values()]
        if not keys or len(keys) > most or math.prod(len(r) for r in ranges) > 200_000:
            continue
        feasible: list[set[int]] = [set() for _ in keys]
        for values in itertools.product(*ranges):
            at = dict(zip(keys, values))
            if all((at.get(r[0], r[0]) if isinstance(r[0], tuple) else r[0]) ==
                   sum(at[v] if isinstance(v, tuple) else v for v in r[1:]) for r in rows):
                for k, v in enumerate(values):
                    feasible[k].add(v)
        out += [f"{keys[k]}: {sorted(f)}" for k, f in enumerate(feasible) if len(f) < 2]
    return out


def withheld_positions(plain: dict[str, Any], shown: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(true value, published value) of every count the published table does not show as a number."""
    pairs = []
    for p0, p1 in zip(plain["phases"], shown["phases"]):
        for c0, c1 in zip(p0["classes"], p1["classes"]):
            for t in TERMS:
                if c0["terms"][t]["state"] == "recorded":
                    pairs += [(c0["terms"][t][k], c1["terms"][t][k]) for k in STATUSES]
        pairs += [(p0["totals"][t][k], p1["totals"][t][k]) for t in TERMS for k in STATUSES]
    pairs += [(plain["totals"][t][k], shown["totals"][t][k]) for t in TERMS for k in STATUSES]
    return pairs


def check_suppressed(report: Report, n: int) -> dict[str, Any]:
    plain = report_doc(report)
    doc = json.loads(export_report(report, "json", n))  # type: ignore[arg-type]
    assert doc["suppression"]["below"] == n
    for true, shown in withheld_positions(plain, doc):
        if shown is None:  # no figures at all in that term: blank, not a count
            assert true == 0
        elif isinstance(shown, int):
            assert shown == true and shown >= n, "a count under N is shown"
        else:
            assert shown in (f"<{n}", WITHHELD)
            assert shown == WITHHELD or true < n
    for p0, p1 in zip(plain["phases"], doc["phases"]):  # a class count shown c is N or more; under N it is <N
        for c0, c1 in zip(p0["classes"], p1["classes"]):
            for t in TERMS:
                for k in STATUSES if c0["terms"][t]["state"] == "recorded" else ():
                    true, shown = c0["terms"][t][k], c1["terms"][t][k]
                    assert (shown == f"<{n}") == (true < n) and (shown != WITHHELD or true >= n)
    assert subtraction_attack(doc) == []
    assert attack(doc, n) == []
    assert brute_force(doc, n) == []
    for p in [*doc["phases"], {"totals": doc["totals"]}]:
        for c in p["totals"].values():
            if not (isinstance(c["appropriate"], int) and isinstance(c["smaller_steps"], int)):
                assert c["percent_appropriate"] in (WITHHELD, None), "a percentage would give a withheld total back"
    return doc


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_the_seed_table_suppressed_cannot_be_worked_back(n: int) -> None:
    doc = check_suppressed(seed_report(), n)
    assert doc["phases"][0]["classes"][0]["terms"]["T1"]["smaller_steps"] == f"<{n}"  # 1AJ had none in smaller steps


def test_a_lone_small_cell_forces_a_second_one() -> None:
    report = make_report([("KS5", [("6AO", [("recorded", 10, 2)] * 3), ("6MH", [("recorded", 10, 9)] * 3),
                                   ("6XX", [("recorded", 12, 14)] * 3)])])
    doc = check_suppressed(report, 5)
    t1 = [c["terms"]["T1"]["smaller_steps"] for c in doc["phases"][0]["classes"]]
    assert t1 == ["<5", WITHHELD, 14]  # 2 alone beside the total 25 would be 25 - 9 - 14
    assert doc["phases"][0]["totals"]["T1"]["smaller_steps"] == 25


def test_a_single_class_phase_withholds_its_total_and_another_phase_total() -> None:
    report = make_report([("KS3/KS4", [("3A", [("recorded", 9, 9)] * 3), ("3B", [("recorded", 8, 7)] * 3)]),
                          ("KS5", [("6AO", [("recorded", 10, 3)] * 3)])])
    doc = check_suppressed(report, 5)
    assert doc["phases"][1]["totals"]["T1"]["smaller_steps"] == WITHHELD  # 3, but shown c like every withheld total
    assert doc["phases"][0]["totals"]["T1"]["smaller_steps"] == WITHHELD
    assert doc["totals"]["T1"]["smaller_steps"] == 19


def test_zeros_that_the_totals_would_give_back_are_protected() -> None:
    # 0 + 0 + 5 + 10 = 15: withholding the two zeros alone leaves 15 - 5 - 10 = 0 for both.
    report = make_report([("KS3/KS4", [(c, [("recorded", 8, v)] * 3) for c, v in
                                       (("3A", 0), ("3B", 0), ("3C", 5), ("3D", 10))])])
    check_suppressed(report, 5)


def test_suppressed_output_holds_no_withheld_number_in_any_format(tmp_path: Path) -> None:
    report = make_report([("KS5", [("6AO", [("recorded", 10, 2)] * 3), ("6MH", [("recorded", 11, 9)] * 3),
                                   ("6XX", [("recorded", 12, 14)] * 3)])])
    pub = publish(report, 5)
    doc = published_json(pub)
    numbers = [c[k] for p in doc["phases"] for row in p["classes"] for c in row["terms"].values() for k in STATUSES]
    numbers += [c[k] for p in [*doc["phases"], doc] for c in p["totals"].values() for k in STATUSES]
    assert 2 not in numbers and 9 not in numbers and "<5" in numbers and WITHHELD in numbers
    text = export_report(report, "text", 5)
    table = [line for line in text.splitlines() if line.startswith(("6", "Total", "Whole"))]  # type: ignore[union-attr]
    assert table and not any(re.search(r"\b(2|9)\b", line) for line in table)
    rows = list(csv.reader(export_report(report, "csv", 5).splitlines()))  # type: ignore[union-attr]
    assert not any(v in ("2", "9") for r in rows for v in r)
    md_cells, md_totals, _ = read_markdown(export_report(report, "markdown", 5))  # type: ignore[arg-type]
    assert not {2, 9} & {v for pair in [*md_cells.values(), *md_totals.values()] for v in pair}
    path = tmp_path / "governors.xlsx"
    path.write_bytes(export_report(report, "xlsx", 5))  # type: ignore[arg-type]
    cells, totals, _, ws = read_xlsx(path)
    assert not {2, 9} & {v for pair in [*cells.values(), *totals.values()] for v in pair}
    shown = json.loads(export_report(report, "json", 5))  # type: ignore[arg-type]
    assert cells == cell_pairs_from_json(shown) and totals == totals_from_json(shown)
    assert any("<5: fewer than 5 pupils" in str(ws.cell(r, 1).value) for r in range(1, 8))


cells_strategy = st.one_of(
    st.tuples(st.just("recorded"), st.integers(0, 14), st.integers(0, 14)),
    st.tuples(st.just("recorded"), st.integers(0, 3), st.integers(0, 3)),
    st.just(("not_open", 0, 0)), st.just(("not_recorded", 0, 0)),
)
class_strategy = st.lists(cells_strategy, min_size=3, max_size=3)
phase_strategy = st.lists(class_strategy, min_size=1, max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(phase_strategy, min_size=1, max_size=3), st.integers(2, 6))
def test_random_tables_suppressed_cannot_be_worked_back(phases: list[list[list[tuple[str, int, int]]]], n: int) -> None:
    names = ["EYFS/KS1/KS2", "KS3/KS4", "KS5"]
    report = make_report([(names[i], [(f"C{i}{j}", cells) for j, cells in enumerate(classes)])
                          for i, classes in enumerate(phases)])
    check_suppressed(report, n)


def test_small_tables_are_checked_by_enumeration_too() -> None:
    report = make_report([("KS5", [("6AO", [("recorded", 1, 6)] * 3), ("6MH", [("recorded", 7, 5)] * 3)]),
                          ("KS3/KS4", [("3A", [("recorded", 6, 0)] * 3)])])
    doc = json.loads(export_report(report, "json", 5))  # type: ignore[arg-type]
    assert brute_force(doc, 5) == [] and attack(doc, 5) == []


# -- the command line ------------------------------------------------------------------------------------------
def run(db: Path, *args: str) -> Result:
    runner = CliRunner(env={"LEDGER_PROJECTION": ":memory:", "LEDGER_DB": None, "LEDGER_ACTOR": None})
    return runner.invoke(cli, ["--db", str(db), *args])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "past.db"
    assert run(path, "--actor", "dm1", "init").exit_code == 0
    assert run(path, "--actor", "dm1", "import", "figures", str(SEED_CSV), "--year", "2022-23").exit_code == 0
    return path


@pytest.mark.parametrize("fmt", ["csv", "json", "text", "markdown"])
def test_output_writes_what_the_screen_would_show(db: Path, tmp_path: Path, fmt: str) -> None:
    screen = run(db, "report", "--year", "2022-23", "--format", fmt, "--position", "3")
    out = tmp_path / f"report.{fmt}"
    written = run(db, "report", "--year", "2022-23", "--format", fmt, "--position", "3", "--output", str(out))
    assert written.exit_code == 0 and written.stdout == f"wrote the 2022-23 report ({fmt}) to {out}\n"
    assert out.read_text(encoding="utf-8") == screen.stdout


def test_xlsx_needs_output_and_reads_back(db: Path, tmp_path: Path) -> None:
    assert run(db, "report", "--year", "2022-23", "--format", "xlsx").exit_code == 2
    out = tmp_path / "governors.xlsx"
    result = run(db, "report", "--year", "2022-23", "--format", "xlsx", "-o", str(out), "--suppress-below", "5")
    assert result.exit_code == 0 and "counts under 5 suppressed" in result.stdout
    doc = json.loads(run(db, "report", "--year", "2022-23", "--format", "json", "--suppress-below", "5").stdout)
    cells, totals, _, _ = read_xlsx(out)
    assert cells == cell_pairs_from_json(doc) and totals == totals_from_json(doc)
    assert doc["source"] == "aggregate" and attack(doc, 5) == []


def test_suppressed_json_on_the_command_line(db: Path) -> None:
    result = run(db, "report", "--year", "2022-23", "--format", "json", "--suppress-below", "5")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["suppression"]["below"] == 5
    plain = json.loads(run(db, "report", "--year", "2022-23", "--format", "json").stdout)
    assert [t for t, s in withheld_positions(plain, doc) if isinstance(s, int) and s < 5] == []


@pytest.mark.parametrize("args", [
    ["--suppress-below", "1"], ["--suppress-below", "many"], ["--format", "pdf"],
    ["--format", "markdown", "--targets"], ["--targets", "--suppress-below", "5"],
    ["--trust", "--format", "xlsx", "--output", "x.xlsx"],
])
def test_report_option_mistakes_exit_2(db: Path, args: list[str]) -> None:
    result = run(db, "report", "--year", "2022-23", *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_other_read_commands_keep_text_json_csv_only(db: Path) -> None:
    assert run(db, "history", "P-0001", "--format", "markdown").exit_code == 2
    assert run(db, "verify", "--format", "xlsx").exit_code == 2


def test_output_to_a_folder_that_does_not_exist_is_refused(db: Path, tmp_path: Path) -> None:
    result = run(db, "report", "--year", "2022-23", "--format", "csv", "--output", str(tmp_path / "no" / "such.csv"))
    assert result.exit_code == 1 and result.stderr.startswith("Error: cannot write ")
