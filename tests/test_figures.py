"""The school's historic aggregate figures (issue 4): ``ledger import figures`` from Word, XLSX and CSV.

The fixture documents are built from ``tests/fixtures/ehcp-data-2023-24.txt`` (the text of the
school's Word report) by :mod:`figures_fixtures`, with real Word tables and merged TERM headings.
Imported into an empty ledger the 2023-24 table must give back the seed CSV exactly. Every refusal
leaves the ledger as it was (head position and hash) and says where, one line per problem.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook, load_workbook

from cli import cli
from conftest import FakeClock
from figures_fixtures import EARLIER_YEAR, document_text, earlier_year_docx, seed_docx, text_to_docx
from ledger.domain.calendar import Term
from ledger.errors import Conflict, ImportRefused, InvalidInput, LedgerError, NotAllowed
from ledger.event_types import ALL_EVENT_TYPES
from ledger.exchange.report_writers import export_report
from ledger.figures_events import HistoricFiguresRecorded, HistoricFiguresRevised
from ledger.render import render
from ledger.services import commands, imports, queries
from ledger.services.context import Ledger
from ledger.services.figures import import_figures

REPO = Path(__file__).resolve().parent.parent
SEED_CSV = REPO / "data" / "ehcp-data-2023-24.csv"


@pytest.fixture
def clock() -> FakeClock:
    """Early in 2024-25: the 2023-24 table is complete, and figures are only for years that have ended."""
    return FakeClock(datetime(2024, 9, 2, 9, 0, tzinfo=timezone.utc))


def head(ledger: Ledger) -> tuple[int, str]:
    h = ledger.store.head()
    return h.position, h.hash


def as_(ledger: Ledger, actor: str) -> Ledger:
    ledger.actor = actor
    return ledger


def refused(ledger: Ledger, action: Any, error: type[LedgerError] = InvalidInput) -> list[str]:
    before = head(ledger)
    with pytest.raises(error) as caught:
        action()
    assert head(ledger) == before, "a refused import changed the ledger"
    lines = caught.value.lines()
    assert all("\n" not in line and line == line.strip() for line in lines)
    return lines


def report_csv(ledger: Ledger, year: str) -> str:
    return render("report", queries.report(ledger, year), "csv")


def report_json(ledger: Ledger, year: str, **moment: Any) -> dict[str, Any]:
    return json.loads(render("report", queries.report(ledger, year, **moment), "json"))


# -- the Word document ---------------------------------------------------------------------------------
def test_the_seed_document_in_an_empty_ledger_gives_back_the_seed_csv_exactly(ledger: Ledger, tmp_path: Path) -> None:
    doc = seed_docx(tmp_path / "EHCP Data 2023-24.docx")
    result = import_figures(ledger, doc)  # the year comes from the title 'EHCP Data 2023- 2024'
    assert result.event_type == "HistoricFiguresRecorded"
    assert result.summary.endswith("2023-24 figures for 23 classes in 3 phases (EYFS/KS1/KS2, KS3/KS4, KS5); "
                                   "wrote 1 event (HistoricFiguresRecorded)")
    seed = SEED_CSV.read_text(encoding="utf-8").splitlines()
    lines = report_csv(ledger, "2023-24").splitlines()
    assert lines[:len(seed)] == seed
    assert lines[len(seed):] == ["EYFS/KS1/KS2,Total,94,8,88,22,89,20", "KS3/KS4,Total,41,31,61,12,57,10",
                                 "KS5,Total,20,0,20,0,20,0", "Whole school,Total,155,39,169,34,166,30"]


def test_aggregate_years_report_the_same_shape_with_a_note(ledger: Ledger, tmp_path: Path) -> None:
    import_figures(ledger, seed_docx(tmp_path / "seed.docx"))
    doc = report_json(ledger, "2023-24")
    assert doc["source"] == "aggregate" and "Aggregate figures" in doc["note"] and "seed.docx" in doc["note"]
    assert set(doc) == {"year", "as_at", "position", "phases", "totals", "source", "note"}
    phase = doc["phases"][0]
    assert phase["phase"] == "EYFS/KS1/KS2" and [c["label"] for c in phase["classes"]][8:] == ["2MD (PMLD)", "2THNS", "APOLLO", "1CW"]
    assert phase["classes"][11]["terms"]["T1"] == {"state": "not_open"}
    assert doc["phases"][1]["classes"][0]["terms"]["T3"] == {"state": "not_recorded", "appropriate": 0,
                                                              "smaller_steps": 0, "unjudged": 0}
    assert phase["classes"][0]["terms"]["T2"] == {"state": "recorded", "appropriate": 9, "smaller_steps": 1, "unjudged": 0}
    assert doc["totals"]["T1"] == {"appropriate": 155, "smaller_steps": 39, "percent_appropriate": 79.9}
    text = render("report", queries.report(ledger, "2023-24"), "text")
    assert "Aggregate figures: the school's own table for 2023-24" in text.splitlines()[2]


def test_pupil_level_reports_say_their_source(ledger: Ledger) -> None:
    assert report_json(ledger, "2023-24")["source"] == "events"
    assert "note" not in report_json(ledger, "2023-24")


def test_csv_xlsx_and_word_give_the_same_table_and_the_second_import_writes_nothing(
        ledger: Ledger, tmp_path: Path) -> None:
    import_figures(ledger, SEED_CSV, year="2023-24")
    before = head(ledger)
    assert import_figures(ledger, seed_docx(tmp_path / "seed.docx")).event_type is None
    export = tmp_path / "export.xlsx"
    export.write_bytes(export_report(queries.report(ledger, "2023-24"), "xlsx"))  # the school's layout
    again = import_figures(ledger, export)
    assert again.event_type is None and again.summary.endswith("nothing new to write (the same figures are already recorded)")
    flat = tmp_path / "flat.xlsx"
    book = Workbook()
    book.active.title = "Data"
    for row in csv.reader(SEED_CSV.read_text().splitlines()):
        book.active.append([int(v) if v.isdigit() else (v or None) for v in row])
    book.save(flat)
    assert import_figures(ledger, flat, year="2023-24", sheet="Data").event_type is None
    assert head(ledger) == before


def test_an_earlier_year_goes_beside_pupil_level_years(ledger: Ledger, tmp_path: Path) -> None:
    import_figures(ledger, earlier_year_docx(tmp_path / "2022-23.docx"))
    doc = report_json(ledger, "2022-23")
    assert doc["year"] == "2022-23" and doc["source"] == "aggregate"
    labels = [c["label"] for p in doc["phases"] for c in p["classes"]]
    assert len(labels) == sum(len(rows) for _, rows in EARLIER_YEAR["blocks"]) and "APOLLO" in labels  # type: ignore[misc]
    assert report_json(ledger, "2023-24")["source"] == "events"


def test_dry_run_writes_nothing(ledger: Ledger, tmp_path: Path) -> None:
    before = head(ledger)
    result = import_figures(ledger, seed_docx(tmp_path / "seed.docx"), dry_run=True)
    assert result.summary.endswith("would write 1 event (HistoricFiguresRecorded)")
    assert head(ledger) == before


def test_the_events_are_registered_typed_and_versioned(ledger: Ledger, tmp_path: Path) -> None:
    assert ALL_EVENT_TYPES["HistoricFiguresRecorded"] is HistoricFiguresRecorded
    assert ALL_EVENT_TYPES["HistoricFiguresRevised"] is HistoricFiguresRevised
    assert HistoricFiguresRecorded.schema_version == HistoricFiguresRevised.schema_version == 1
    import_figures(ledger, seed_docx(tmp_path / "seed.docx"))
    stored = ledger.store.read_stream("figures-2023-24")
    event = stored[0].to_event()
    assert isinstance(event, HistoricFiguresRecorded) and event.year == "2023-24" and event.source == "seed.docx"
    apollo = next(c for c in event.classes if c.class_id == "APOLLO")
    assert (apollo.phase, apollo.mark, apollo.t1.appropriate, apollo.t1.smaller_steps) == ("EYFS/KS1/KS2", None, 16, 0)
    marked = next(c for c in event.classes if c.class_id == "2MD")
    assert marked.mark == "PMLD"


# -- revisions, and which years take figures ----------------------------------------------------------------
def test_different_figures_need_revise_with_a_reason(ledger: Ledger, tmp_path: Path) -> None:
    import_figures(ledger, seed_docx(tmp_path / "seed.docx"))
    first = head(ledger)[0]
    fixed = seed_docx(tmp_path / "fixed.docx", {"\t1AJ\n\t10\n\t0\n\t9\n\t1": "\t1AJ\n\t10\n\t0\n\t8\n\t2"})
    lines = refused(ledger, lambda: import_figures(ledger, fixed))
    assert lines == [f"the 2023-24 figures differ from those recorded at position {first} (1AJ T2 9/1 now 8/2); "
                     "import with --revise --reason TEXT to replace them"]
    result = import_figures(as_(ledger, "dm1"), fixed, revise_reason="1AJ term 2 moderated")
    assert result.event_type == "HistoricFiguresRevised"
    revised = ledger.store.read_stream("figures-2023-24")[-1].to_event()
    assert isinstance(revised, HistoricFiguresRevised) and revised.supersedes_position == first
    doc = report_json(ledger, "2023-24")
    assert doc["phases"][0]["classes"][0]["terms"]["T2"]["smaller_steps"] == 2
    assert "revised: 1AJ term 2 moderated" in doc["note"]
    before = report_json(ledger, "2023-24", position=first)
    assert before["phases"][0]["classes"][0]["terms"]["T2"]["smaller_steps"] == 1  # as the ledger stood then
    assert import_figures(ledger, fixed, revise_reason="1AJ term 2 moderated").event_type is None


def test_a_year_with_pupil_level_judgements_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    commands.open_class(ledger, "1AJ", "EYFS/KS1/KS2", from_term=Term.parse("2023-24/T1"))
    roll = tmp_path / "roll.csv"
    roll.write_text("pupil_id,class,enrolled_on\nP-001,1AJ,2023-09-04\n")
    imports.import_pupils(ledger, roll)
    commands.record_judgement(ledger, "P-001", Term.parse("2023-24/T1"), "appropriate")
    lines = refused(ledger, lambda: import_figures(ledger, seed_docx(tmp_path / "seed.docx")))
    assert lines == ["2023-24 already has pupil-level judgements (1 in force); historic aggregate figures are only "
                     "for years before the ledger's pupil-level records, and the report for 2023-24 is built from "
                     "those judgements"]


def test_pupil_level_judgements_are_refused_for_an_aggregate_year(ledger: Ledger, tmp_path: Path) -> None:
    commands.open_class(ledger, "1AJ", "EYFS/KS1/KS2", from_term=Term.parse("2022-23/T1"))
    roll = tmp_path / "roll.csv"
    roll.write_text("pupil_id,class,enrolled_on\nP-001,1AJ,2022-09-05\n")
    imports.import_pupils(ledger, roll)
    import_figures(ledger, earlier_year_docx(tmp_path / "2022-23.docx"))
    lines = refused(ledger, lambda: commands.record_judgement(ledger, "P-001", Term.parse("2022-23/T1"), "appropriate"))
    assert lines == ["2022-23 is kept as the school's historic aggregate figures (imported with 'ledger import "
                     "figures'), so pupil-level judgements for it are refused"]
    t1 = tmp_path / "t1.csv"
    t1.write_text("pupil_id,class,term,status,reason\nP-001,1AJ,2022-23/T1,appropriate,\nP-001,1AJ,2022-23/T2,appropriate,\n"
                  "P-001,1AJ,2023-24/T1,appropriate,\n")
    lines = refused(ledger, lambda: imports.import_judgements(ledger, t1), ImportRefused)
    assert lines[0] == (f"{t1}:2: 2022-23 is kept as the school's historic aggregate figures (imported with 'ledger "
                        "import figures'), so pupil-level judgements for it are refused (this row and every other row "
                        "for that year)")
    assert len(lines) == 2  # one line for the problem, then the summary
    assert commands.record_judgement(ledger, "P-001", Term.parse("2023-24/T1"), "appropriate")  # other years are fine


def test_a_year_not_yet_ended_is_refused(ledger: Ledger, clock: FakeClock, tmp_path: Path) -> None:
    for year in ("2024-25", "2090-91"):
        lines = refused(ledger, lambda: import_figures(ledger, SEED_CSV, year=year))
        assert lines == [f"{year} has not ended yet (its summer term ends {year[:2]}{year[5:]}-08-31); "
                         "historic figures are for past years"]
    # the school's own summer term: its figures can come once that term is over, not before
    clock.set(datetime(2024, 7, 15, 9, 0, tzinfo=timezone.utc))
    commands.set_term_dates(ledger, Term.parse("2023-24/T3"), date(2024, 4, 15), date(2024, 7, 19))
    lines = refused(ledger, lambda: import_figures(ledger, SEED_CSV, year="2023-24"))
    assert lines == ["2023-24 has not ended yet (its summer term ends 2024-07-19); historic figures are for past years"]
    clock.set(datetime(2024, 7, 20, 9, 0, tzinfo=timezone.utc))
    assert import_figures(ledger, SEED_CSV, year="2023-24").event_type == "HistoricFiguresRecorded"


def test_the_command_id_given_is_the_imports_key(ledger: Ledger, tmp_path: Path) -> None:
    """With --command-id a retried figures import writes once; other figures under that id are refused."""
    ledger.command_id = "figures-2023-24"
    seed = seed_docx(tmp_path / "seed.docx")
    assert import_figures(ledger, seed).event_type == "HistoricFiguresRecorded"
    assert ledger.store.read_command("figures-2023-24")[0].stream_id == "figures-2023-24"
    after = head(ledger)
    assert import_figures(ledger, seed).event_type is None  # the retry
    assert head(ledger) == after
    reused = "command id figures-2023-24 was already used for a different command; use a new command id for new work"
    fixed = seed_docx(tmp_path / "fixed.docx", {"\t1AJ\n\t10\n\t0\n\t9\n\t1": "\t1AJ\n\t10\n\t0\n\t8\n\t2"})
    assert refused(ledger, lambda: import_figures(ledger, fixed, revise_reason="1AJ moderated"), Conflict) == [reused]
    assert refused(ledger, lambda: import_figures(ledger, earlier_year_docx(tmp_path / "2022-23.docx")), Conflict) == [reused]


def test_the_year_must_be_known_and_agree_with_the_title(ledger: Ledger, tmp_path: Path) -> None:
    lines = refused(ledger, lambda: import_figures(ledger, SEED_CSV))
    assert lines == [f"{SEED_CSV}: which year are these figures for? The file does not say; give --year (e.g. --year 2022-23)"]
    doc = seed_docx(tmp_path / "seed.docx")
    lines = refused(ledger, lambda: import_figures(ledger, doc, year="2022-23"))
    assert lines == [f"{doc}: the document's title is for 2023-24 but --year says 2022-23; check which year these figures are for"]


@pytest.mark.parametrize("role, allowed", [("data-manager", True), ("head", True), ("deputy-head", True),
                                           ("ks-lead", False), ("teacher", False), ("line-manager", False)])
def test_who_may_import_figures(ledger: Ledger, tmp_path: Path, role: str, allowed: bool) -> None:
    commands.add_staff(ledger, "S1", role)
    doc = seed_docx(tmp_path / "seed.docx")
    if allowed:
        assert import_figures(as_(ledger, "S1"), doc).event_type == "HistoricFiguresRecorded"
    else:
        lines = refused(ledger, lambda: import_figures(as_(ledger, "S1"), doc), NotAllowed)
        assert "may not import the school's historic aggregate figures" in lines[0]


# -- the bad-input corpus -----------------------------------------------------------------------------------
@pytest.mark.parametrize("replace, expected", [
    ({"\t1AJ\n\t10\n": "\t1AJ\n\t-1\n"}, ["!table1:3: 1AJ T1 appropriate: count -1 is negative"]),
    ({"\t1BR\n\t9\n": "\t1BR\n\tnine\n"},
     ["!table1:4: 1BR T1 appropriate: count 'nine' is not a whole number (write a number, N/A, or leave it blank)"]),
    ({"\t1RF\n\t10\n\t0\n\t5": "\t1RF\n\t10\n\t0\n\t2.5"}, ["!table1:5: 1RF T2 appropriate: count '2.5' is not a whole number"]),
    ({"\t2BW\n\t9\n\t0\n": "\t2BW\n\t9\n\t\n"},
     ["!table1:7: 2BW T1: appropriate is 9 but smaller steps is blank; give both counts, N/A in both"]),
    ({"\t3LB\n": "\tMrs Brown's class\n"}, ["!table2:4: class_id 'Mrs Brown's class' is not valid"]),
    ({"\t3LP\n": "\t3LB\n"}, ["!table2:5: class 3LB appears twice (also at "]),
    ({"\tTERM 2\n": "\tTREM 2\n"}, ["!table1:1: 'TREM 2' is not a term heading; write TERM 1, TERM 2 or TERM 3"]),
    ({"\tTERM 3\n": "\tTERM 4\n"}, ["!table1:1: 'TERM 4' is not a term heading"]),
    ({"KS3 / KS4\n": "Key stage 3 and 4\n"}, ["!table2:2: no phase heading (such as 'KS3 / KS4') before this table"]),
    ({"\tPupils making smaller steps of progress \n": "\tPupils on track\n"},
     ["!table1:2: column heading 'Pupils on track' is neither appropriate progress nor smaller steps of progress"]),
])
def test_bad_word_documents_are_refused_with_where(ledger: Ledger, tmp_path: Path, replace: dict[str, str],
                                                   expected: list[str]) -> None:
    doc = seed_docx(tmp_path / "bad.docx", replace)
    lines = refused(ledger, lambda: import_figures(ledger, doc), ImportRefused)
    assert len(lines) == len(expected) + 1, lines
    for line, want in zip(lines, expected):
        assert line.startswith(f"{doc}{want}"), line
    assert lines[-1].startswith(f"import of {doc} refused")


def test_a_word_document_with_no_table_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    doc = text_to_docx(" EHCP Data 2023- 2024\nData meetings are held termly.\nEFYS / KS1 / KS2\n", tmp_path / "no-table.docx")
    assert refused(ledger, lambda: import_figures(ledger, doc)) == [
        f"{doc}: no table in the document; expected the school's figures tables (Class, then pupils making "
        "appropriate progress and smaller steps for TERM 1 to TERM 3)"]


def test_a_word_document_with_other_tables_only_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    doc = text_to_docx("Staff list\n\tName\n\tRole\n\n\tA\n\tB\n", tmp_path / "other.docx")
    lines = refused(ledger, lambda: import_figures(ledger, doc), ImportRefused)
    assert lines[0].startswith(f"{doc}: no figures table in the document")


def test_merged_count_cells_in_word_are_refused(ledger: Ledger, tmp_path: Path) -> None:
    import docx

    doc_path = seed_docx(tmp_path / "merged.docx")
    document = docx.Document(str(doc_path))
    table = document.tables[0]
    table.cell(2, 1).merge(table.cell(2, 2))  # 1AJ's two T1 counts in one cell
    document.save(str(doc_path))
    lines = refused(ledger, lambda: import_figures(ledger, doc_path), ImportRefused)
    assert any(line.startswith(f"{doc_path}!table1:3: cells table1 B3:C3 are merged") for line in lines), lines


def test_files_that_are_not_word_documents_are_refused(ledger: Ledger, tmp_path: Path) -> None:
    fake = tmp_path / "figures.docx"
    fake.write_text("not a document")
    assert "not a Word document that can be read" in refused(ledger, lambda: import_figures(ledger, fake))[0]


def exported_workbook(ledger: Ledger, tmp_path: Path) -> Path:
    import_figures(ledger, seed_docx(tmp_path / "seed.docx"))
    path = tmp_path / "export.xlsx"
    path.write_bytes(export_report(queries.report(ledger, "2023-24"), "xlsx"))
    return path


def find_row(ws: Any, label: str, after: int = 1) -> int:
    return next(r for r in range(after, ws.max_row + 1) if ws.cell(r, 1).value == label)


def test_totals_that_do_not_add_up_are_refused(ledger: Ledger, tmp_path: Path, ledger_factory: Any) -> None:
    path = exported_workbook(ledger, tmp_path)
    book = load_workbook(path)
    ws = book.active
    total = find_row(ws, "Total")
    ws.cell(total, 3).value = 9  # EYFS/KS1/KS2 T1 smaller steps: the classes add up to 8
    school = find_row(ws, "Whole school")
    ws.cell(school, 2).value = 150
    book.save(path)
    other = ledger_factory()
    lines = refused(other, lambda: import_figures(other, path), ImportRefused)
    assert lines[:2] == [f"{path}!2023-24:{total}: the EYFS/KS1/KS2 total for T1 smaller steps is 9 but its classes add up to 8",
                         f"{path}!2023-24:{school}: the whole-school total for T1 appropriate is 150 but its classes add up to 155"]


def test_merged_count_cells_in_a_workbook_are_refused(ledger: Ledger, tmp_path: Path, ledger_factory: Any) -> None:
    path = exported_workbook(ledger, tmp_path)
    book = load_workbook(path)
    ws = book.active
    row = find_row(ws, "1AJ")
    ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
    book.save(path)
    other = ledger_factory()
    lines = refused(other, lambda: import_figures(other, path), ImportRefused)
    assert lines[:-1] == [f"{path}!2023-24:{row}: cells B{row}:C{row} are merged; every class and total needs its own "
                          "cell for each count"]


def test_a_term_typo_in_a_workbook_is_one_problem(ledger: Ledger, tmp_path: Path, ledger_factory: Any) -> None:
    path = exported_workbook(ledger, tmp_path)
    book = load_workbook(path)
    ws = book.active
    terms = find_row(ws, "Class") - 1
    ws.cell(terms, 4).value = "Term two"
    book.save(path)
    other = ledger_factory()
    lines = refused(other, lambda: import_figures(other, path), ImportRefused)
    assert lines[:-1] == [f"{path}!2023-24:{terms}: 'Term two' is not a term heading; write TERM 1, TERM 2 or TERM 3 "
                          "(the school year has three terms)"]


def test_a_bad_count_is_not_reported_again_as_a_total(ledger: Ledger, tmp_path: Path, ledger_factory: Any) -> None:
    path = exported_workbook(ledger, tmp_path)
    book = load_workbook(path)
    ws = book.active
    row = find_row(ws, "1BR")
    ws.cell(row, 2).value = "9?"
    book.save(path)
    other = ledger_factory()
    lines = refused(other, lambda: import_figures(other, path), ImportRefused)
    assert lines[:-1] == [f"{path}!2023-24:{row}: 1BR T1 appropriate: count '9?' is not a whole number (write a "
                          "number, N/A, or leave it blank)"]


def test_empty_sheets_are_refused(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    assert refused(ledger, lambda: import_figures(ledger, path, year="2022-23")) == [
        f"{path}!Sheet: the sheet is empty; expected the school's figures table (columns phase,class,t1_appropriate,"
        "t1_smaller_steps,t2_appropriate,t2_smaller_steps,t3_appropriate,t3_smaller_steps, or the layout of the school's report)"]


@pytest.mark.parametrize("text, expected", [
    ("phase,class,t1_appropriate,t1_smaller_steps,t2_appropriate,t2_smaller_steps,t3_appropriate,t3_apropriate\n",
     ":1: missing column(s) t3_smaller_steps"),
    ("phase,class,t1_appropriate,t1_smaller_steps,t2_appropriate,t2_smaller_steps,t3_appropriate,t3_smaller_steps\n"
     "KS9,1AJ,1,1,1,1,1,1\n", ":2: phase 'KS9' is not a group of key stages"),
    ("phase,class,t1_appropriate,t1_smaller_steps,t2_appropriate,t2_smaller_steps,t3_appropriate,t3_smaller_steps\n"
     "KS5,6AO,1,1,1,1,1,1\nKS5,Total,1,1,1,1,1,2\n", ":3: the KS5 total for T3 smaller steps is 2 but its classes add up to 1"),
    ("phase,class,t1_appropriate,t1_smaller_steps,t2_appropriate,t2_smaller_steps,t3_appropriate,t3_smaller_steps\n"
     "KS5,6AO,1,N/A,1,1,1,1\n", ":2: 6AO T1: appropriate is 1 but smaller steps is N/A"),
])
def test_bad_flat_tables_are_refused_with_file_line(ledger: Ledger, tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "figures.csv"
    path.write_text(text)
    lines = refused(ledger, lambda: import_figures(ledger, path, year="2022-23"), ImportRefused)
    assert lines[0].startswith(f"{path}{expected}"), lines


def test_efys_in_a_flat_table_is_read_as_eyfs(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "figures.csv"
    path.write_text("Phase,Class,T1 Appropriate,T1 Smaller Steps,T2 Appropriate,T2 Smaller Steps,T3 Appropriate,T3 Smaller Steps\n"
                    "EFYS / KS1 / KS2,2MD (PMLD),5,3,5,3, 5 ,3 \n")
    import_figures(ledger, path, year="2022-23")
    doc = report_json(ledger, "2022-23")
    assert doc["phases"][0]["phase"] == "EYFS/KS1/KS2" and doc["phases"][0]["classes"][0]["label"] == "2MD (PMLD)"


# -- the command line ------------------------------------------------------------------------------------------
def run(db: Path, *args: str) -> Result:
    runner = CliRunner(env={"LEDGER_PROJECTION": ":memory:", "LEDGER_DB": None, "LEDGER_ACTOR": None})
    return runner.invoke(cli, ["--db", str(db), *args])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "past.db"
    assert run(path, "--actor", "dm1", "init").exit_code == 0
    return path


def test_cli_import_figures_then_report(db: Path, tmp_path: Path) -> None:
    doc = earlier_year_docx(tmp_path / "EHCP Data 2022-23.docx")
    dry = run(db, "--actor", "dm1", "import", "figures", str(doc), "--dry-run")
    assert dry.exit_code == 0 and "would write 1 event" in dry.stdout
    done = run(db, "--actor", "dm1", "import", "figures", str(doc))
    assert done.exit_code == 0 and "wrote 1 event (HistoricFiguresRecorded)" in done.stdout
    again = run(db, "--actor", "dm1", "import", "figures", str(doc), "--year", "2022-23")
    assert again.exit_code == 0 and "nothing new to write" in again.stdout
    shown = run(db, "report", "--year", "2022-23", "--format", "json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["source"] == "aggregate"


@pytest.mark.parametrize("args", [
    ["--year", "2022/23"], ["--reason", "typo fixed"], ["--revise"], ["--sheet", "Sheet1"],
])
def test_cli_import_figures_command_line_errors_exit_2(db: Path, tmp_path: Path, args: list[str]) -> None:
    doc = earlier_year_docx(tmp_path / "2022-23.docx")
    result = run(db, "--actor", "dm1", "import", "figures", str(doc), *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_cli_refused_figures_exit_1_and_leave_the_ledger(db: Path, tmp_path: Path) -> None:
    doc = seed_docx(tmp_path / "bad.docx", {"\t1AJ\n\t10\n": "\t1AJ\n\t-1\n", "\t3LB\n\t6\n": "\t3LB\n\tsix\n"})
    before = run(db, "verify").stdout
    result = run(db, "--actor", "dm1", "import", "figures", str(doc))
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"Error: {doc}!table1:3: 1AJ T1 appropriate: count -1 is negative"
    assert lines[1].startswith(f"Error: {doc}!table2:4: 3LB T1 appropriate: count 'six' is not a whole number")
    assert len(lines) == 3 and "nothing was written" in lines[2]
    assert run(db, "verify").stdout == before


@pytest.fixture
def ledger_factory(tmp_path: Path, clock: Any) -> Any:
    from ledger.bootstrap import ledger_for_store
    from ledger.store import open_store

    made: list[Ledger] = []

    def make() -> Ledger:
        store = open_store(f"sqlite:///{tmp_path / f'other-{len(made)}.db'}", clock=clock, must_exist=False)
        store.create_schema()
        other = ledger_for_store(store, projection=None, actor="dm1")
        commands.init(other)
        made.append(other)
        return other

    yield make
    for other in made:
        other.close()


def test_document_text_round_trips_through_the_parser() -> None:
    from figures_fixtures import parse_text

    text = document_text(" Title 2022- 2023", [("KS5 ", [["6AO", "1", "2", "3", "4", "5", "6"]])])
    items = parse_text(text)
    assert [k for k, _ in items] == ["p", "p", "table"]
    assert items[2][1][0] == ["", "TERM 1", "TERM 2", "TERM 3"] and items[2][1][2][0] == "6AO"  # type: ignore[index]
