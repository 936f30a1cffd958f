"""Imports in the ways schools keep data (issue 4): CSV and XLSX, forgiving headers and cells, Excel dates.

Every import (pupils, judgements, outcomes, targets, stages) reads CSV or the first sheet of an XLSX
workbook (or ``--sheet NAME``); headers match whatever their case, spaces, underscores or byte-order
mark; cells are trimmed; Excel date cells, date serials and day/month/year dates work. Refusals are
one line per problem, ``FILE:LINE`` for CSV and ``FILE!SHEET:ROW`` for a workbook, and leave the
ledger exactly as it was (head position and hash); importing the same data again writes nothing.
The fake clock stands at 2024-07-01, near the end of the 2023-24 summer term.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook

from cli import cli
from ledger.domain.calendar import Term
from ledger.errors import ImportRefused, InvalidInput, LedgerError
from ledger.exchange.grids import date_text
from ledger.services import commands, imports, learning, learning_imports
from ledger.services.context import Ledger
from ledger.services.tabular import PROGRESS, header_key, read_table, tracked

ROLL = [("P-001", "1AJ", "2023-09-04"), ("P-002", "1AJ", "2023-09-04"), ("P-003", "APOLLO", "2023-09-04")]


def head(ledger: Ledger) -> tuple[int, str]:
    h = ledger.store.head()
    return h.position, h.hash


def as_(ledger: Ledger, actor: str) -> Ledger:
    ledger.actor = actor
    return ledger


def xlsx(path: Path, rows: list[list[Any]], sheet: str = "Sheet1", merges: tuple[str, ...] = (),
         before: dict[str, list[list[Any]]] | None = None) -> Path:
    """A workbook whose first sheets are ``before`` (name -> rows), then ``sheet`` with ``rows``."""
    book = Workbook()
    book.remove(book.active)
    for name, other in (before or {}).items():
        ws = book.create_sheet(name)
        for r in other:
            ws.append(r)
    ws = book.create_sheet(sheet)
    for r in rows:
        ws.append(r)
    for ref in merges:
        ws.merge_cells(ref)
    book.save(path)
    return path


def csv_file(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def refused(ledger: Ledger, action: Callable[[], Any], error: type[LedgerError] = InvalidInput) -> list[str]:
    """The action is refused, nothing is written, and the lines of the refusal are returned."""
    before = head(ledger)
    with pytest.raises(error) as caught:
        action()
    assert head(ledger) == before, "a refused import changed the ledger"
    lines = caught.value.lines()
    assert all("\n" not in line and line == line.strip() for line in lines)
    return lines


@pytest.fixture
def school(ledger: Ledger) -> Ledger:
    """Classes 1AJ and APOLLO (from 2023-24/T1); teacher T1 and Key Stage lead KS1; dm1 acting."""
    commands.open_class(ledger, "1AJ", "EYFS/KS1/KS2", from_term=Term.parse("2023-24/T1"))
    commands.open_class(ledger, "APOLLO", "EYFS/KS1/KS2", from_term=Term.parse("2023-24/T1"))
    commands.add_staff(ledger, "T1", "teacher")
    commands.add_staff(ledger, "KS1", "ks-lead")
    return ledger


@pytest.fixture
def ledger_factory(tmp_path: Path, clock: Any) -> Any:
    """Fresh SQLite ledgers beside the test's own (dm1 acting), for comparing two imports."""
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


def roll_events(ledger: Ledger) -> list[tuple[str, str]]:
    return [(e.stream_id, e.event_type, e.payload) for e in ledger.store.read_all() if e.stream_id.startswith("pupil-")]


# -- headers, cells and dates --------------------------------------------------------------------------
@pytest.mark.parametrize("header, key", [
    ("pupil_id", "pupilid"), ("Pupil ID", "pupilid"), ("\ufeffPUPIL_ID ", "pupilid"), (" enrolled  on", "enrolledon"),
    ("Enrolled_On", "enrolledon"), ("pupil__id", "pupilid"),
])
def test_headers_ignore_case_spaces_underscores_and_bom(header: str, key: str) -> None:
    assert header_key(header) == key


@pytest.mark.parametrize("value, text", [
    (datetime(2023, 9, 4), "2023-09-04"), (date(2023, 9, 4), "2023-09-04"), (45173, "2023-09-04"),
    (45173.0, "2023-09-04"), ("45173", "2023-09-04"), ("04/09/2023", "2023-09-04"), ("4/9/2023", "2023-09-04"),
    ("2023-09-04", "2023-09-04"), ("2023-09-04 00:00:00", "2023-09-04"), (" 2023-09-04 ", "2023-09-04"),
    ("31/02/2023", "31/02/2023"), ("next week", "next week"), (45173.5, "45173.5"), (None, ""),
])
def test_date_cells_serials_and_uk_dates_become_iso(value: Any, text: str) -> None:
    assert date_text(value) == text


def test_pupils_from_xlsx_with_messy_headers_date_cells_serials_and_stray_spaces(school: Ledger, tmp_path: Path) -> None:
    book = xlsx(tmp_path / "roll.xlsx", [
        ["\ufeffPupil ID", "CLASS ", "Enrolled_On", "left on"],
        ["P-001 ", "1AJ", datetime(2023, 9, 4), None],
        [" P-002", "1AJ ", 45173, ""],  # an Excel date serial in a cell not formatted as a date
        ["P-003", "APOLLO ", "04/09/2023", None],  # as Excel writes a date into a UK CSV
        [None, None, None, None],  # blank rows are skipped
    ])
    result = imports.import_pupils(school, book)
    assert result.kinds == {"PupilEnrolled": 3}
    for pupil_id, class_id, _ in ROLL:
        placement = school.pupil(pupil_id)[1].placements[0]
        assert (placement.class_id, placement.start) == (class_id, date(2023, 9, 4))


def test_the_same_roll_as_csv_and_as_xlsx_gives_the_same_events(school: Ledger, tmp_path: Path,
                                                                   ledger_factory: Callable[[], Ledger]) -> None:
    imports.import_pupils(school, csv_file(tmp_path / "roll.csv", "\ufeffpupil_id,class,enrolled_on\n" + "".join(
        f"{p},{c},{d}\n" for p, c, d in ROLL)))
    via_csv = roll_events(school)
    other = ledger_factory()
    commands.open_class(other, "1AJ", "EYFS/KS1/KS2", from_term=Term.parse("2023-24/T1"))
    commands.open_class(other, "APOLLO", "EYFS/KS1/KS2", from_term=Term.parse("2023-24/T1"))
    imports.import_pupils(other, xlsx(tmp_path / "roll.xlsx", [["Pupil Id", "Class", "Enrolled On"]] + [
        [p, c + " ", datetime.fromisoformat(d)] for p, c, d in ROLL]))
    assert roll_events(other) == via_csv


def test_reimporting_the_same_data_writes_nothing_whatever_the_format(school: Ledger, tmp_path: Path) -> None:
    book = xlsx(tmp_path / "roll.xlsx", [["pupil_id", "class", "enrolled_on"]] + [list(r) for r in ROLL])
    imports.import_pupils(school, book)
    before = head(school)
    again = imports.import_pupils(school, book)
    assert again.kinds == {} and "nothing new to write" in again.summary
    as_csv = csv_file(tmp_path / "roll.csv", "Pupil ID,Class,Enrolled On\n" + "".join(f"{p},{c},{d}\n" for p, c, d in ROLL))
    assert imports.import_pupils(school, as_csv).kinds == {}
    assert head(school) == before


def test_dry_run_on_xlsx_says_what_it_would_write_and_writes_nothing(school: Ledger, tmp_path: Path) -> None:
    book = xlsx(tmp_path / "roll.xlsx", [["pupil_id", "class", "enrolled_on"]] + [list(r) for r in ROLL])
    before = head(school)
    result = imports.import_pupils(school, book, dry_run=True)
    assert result.summary.endswith("would write 3 events (3 PupilEnrolled)")
    assert head(school) == before


def test_judgements_from_the_named_sheet_or_the_first(school: Ledger, tmp_path: Path) -> None:
    imports.import_pupils(school, xlsx(tmp_path / "roll.xlsx", [["pupil_id", "class", "enrolled_on"]] + [list(r) for r in ROLL]))
    t1 = [["Pupil_ID", "Class", "Term", "Status", "Reason"], ["P-001", "1AJ", "2023-24/T1", "appropriate", None],
          ["P-002", "1AJ", " 2023-24/T1 ", "Smaller-Steps", "long absence "]]
    t2 = [["pupil_id", "class", "term", "status", "reason"], ["P-001", "1AJ", "2023-24/T2", "appropriate", None]]
    book = xlsx(tmp_path / "judgements.xlsx", t2, sheet="Spring", before={"Autumn": t1})
    assert imports.import_judgements(school, book).kinds == {"JudgementRecorded": 2}  # the first sheet
    assert school.judgement("P-002", Term.parse("2023-24/T1"))[1].reason == "long absence"
    assert imports.import_judgements(school, book, sheet="spring").kinds == {"JudgementRecorded": 1}
    assert imports.import_judgements(school, book, sheet="Autumn").kinds == {}


def test_learning_record_imports_read_xlsx_too(school: Ledger, tmp_path: Path) -> None:
    imports.import_pupils(school, xlsx(tmp_path / "roll.xlsx", [["pupil_id", "class", "enrolled_on"]] + [list(r) for r in ROLL]))
    outcomes = xlsx(tmp_path / "outcomes.xlsx", [["Outcome ID", "Pupil ID", "Area", "Description"],
                                                ["O-1", "P-001", "semh ", "Manages changes to routine calmly"]])
    assert learning_imports.import_outcomes(as_(school, "T1"), outcomes).kinds == {"OutcomeSet": 1}
    targets = xlsx(tmp_path / "targets.xlsx", [["target_id", "pupil_id", "outcome_id", "framework", "description", "terms"],
                                              ["T-1", "P-001", "O-1", "engagement", "Waits for a turn in a group",
                                               "2023-24/T1;2023-24/T2"]])
    assert learning_imports.import_targets(school, targets).kinds == {"TargetSet": 1}
    learning.approve_targets(as_(school, "KS1"), ["T-1"])
    stages = xlsx(tmp_path / "stages.xlsx", [["Target ID", "Stage", "Achieved On", "Note"],
                                            ["T-1", "Emerging", datetime(2023, 10, 2), "2 of 5 sessions"],
                                            ["T-1", "Developing", 45260, None]])  # 2023-11-30 as a serial
    assert learning_imports.import_stages(as_(school, "T1"), stages).kinds == {"StageRecorded": 2}
    assert learning_imports.import_stages(school, stages).kinds == {}
    stage_dates = [s.achieved_on for s in learning.target(school, "T-1")[1].stages]
    assert stage_dates == [date(2023, 10, 2), date(2023, 11, 30)]


# -- the bad-input corpus --------------------------------------------------------------------------------
def test_wrong_headers_in_xlsx_are_reported_at_the_header_row(school: Ledger, tmp_path: Path) -> None:
    book = xlsx(tmp_path / "roll.xlsx", [["Pupil", "Class", "Start date", "Colour"], ["P-001", "1AJ", "2023-09-04", "red"]],
                sheet="Roll")
    lines = refused(school, lambda: imports.import_pupils(school, book), ImportRefused)
    assert lines[0] == f"{book}!Roll:1: missing column(s) pupil_id, enrolled_on; expected pupil_id,class,enrolled_on,left_on"
    assert lines[1] == f"{book}!Roll:1: unknown column(s) Pupil, Start date, Colour"


def test_a_column_named_twice_is_refused(school: Ledger, tmp_path: Path) -> None:
    path = csv_file(tmp_path / "roll.csv", "pupil_id,class,Pupil ID,enrolled_on\nP-001,1AJ,P-001,2023-09-04\n")
    lines = refused(school, lambda: imports.import_pupils(school, path), ImportRefused)
    assert lines[0] == f"{path}:1: column pupil_id appears twice ('pupil_id' and 'Pupil ID')"


def test_every_bad_row_of_a_workbook_is_reported_once_as_file_sheet_row(school: Ledger, tmp_path: Path) -> None:
    imports.import_pupils(school, xlsx(tmp_path / "roll.xlsx", [["pupil_id", "class", "enrolled_on"]] + [list(r) for r in ROLL]))
    book = xlsx(tmp_path / "t1.xlsx", [
        ["pupil_id", "class", "term", "status", "reason"],
        ["P-001", "1AJ", "2023-24/T1", "appropriate", None],  # good, but the import is all or nothing
        ["P-002", "9ZZ", "2023-24/T1", "appropriate", None],  # unknown class
        ["P-003", "APOLLO", "2023-24/T4", "appropriate", None],  # term typo
        ["P-003", "APOLLO", "2023-24/T1", "apropriate", None],  # status typo
        ["P-002", "1AJ", "2023-24/T2", "smaller-steps", None],  # no reason
        [None, None, None, None, None],
        ["P-001", "1AJ", "Autumn 2023", "appropriate", None],  # a term written another way
    ], sheet="Autumn term")
    lines = refused(school, lambda: imports.import_judgements(school, book), ImportRefused)
    where = [line.split(": ", 1)[0] for line in lines[:-1]]
    assert where == [f"{book}!Autumn term:{n}" for n in (3, 4, 5, 6, 8)]
    assert "class 9ZZ does not exist" in lines[0]
    assert "'2023-24/T4' is not a term" in lines[1]
    assert "status 'apropriate' is not valid" in lines[2]
    assert "needs a reason" in lines[3]
    assert "'Autumn 2023' is not a term" in lines[4]
    assert lines[-1].startswith(f"import of {book} refused: 5 problems, nothing was written")


def test_csv_problems_are_file_line(school: Ledger, tmp_path: Path) -> None:
    path = csv_file(tmp_path / "roll.csv", "pupil_id,class,enrolled_on\nP-001,1AJ,2023-09-04\nP-002,1AJ,next week\n"
                                         "P-003,9ZZ,2023-09-04\n")
    lines = refused(school, lambda: imports.import_pupils(school, path), ImportRefused)
    assert lines[0] == f"{path}:3: enrolled_on 'next week' is not a date; write it as YYYY-MM-DD"
    assert lines[1].startswith(f"{path}:4: class 9ZZ does not exist")
    ragged = csv_file(tmp_path / "ragged.csv", "pupil_id,class,enrolled_on\nP-001,1AJ,2023-09-04,extra\n")
    lines = refused(school, lambda: imports.import_pupils(school, ragged), ImportRefused)
    assert lines == [f"{ragged}:2: 4 cells but the header has 3 columns",
                     f"import of {ragged} refused: 1 problem, nothing was written; fix the rows above and import again"]


def test_a_row_with_too_many_cells_is_one_problem_among_the_others(school: Ledger, tmp_path: Path) -> None:
    # The ragged rows are skipped and the rest still checked, so every bad row is reported at once; a
    # quoted cell over several lines is reported at the line its record starts on.
    path = csv_file(tmp_path / "roll.csv", "pupil_id,class,enrolled_on\n"
                                         "P-001,1AJ,2023-09-04\n"            # 2: fine
                                         "P-002,1AJ,2023-09-04,extra,cells\n"  # 3: ragged
                                         'P-003,9ZZ,"2023-09-04\n"\n'         # 4-5: unknown class; a cell over two lines
                                         "P-004,1AJ,2023-09-04,x\n"          # 6: ragged
                                         "P-005,1AJ,someday\n")              # 7: bad date
    lines = refused(school, lambda: imports.import_pupils(school, path), ImportRefused)
    assert lines == [
        f"{path}:3: 5 cells but the header has 3 columns",
        f"{path}:4: class 9ZZ does not exist; open it with 'ledger class open 9ZZ --phase PHASE'",
        f"{path}:6: 4 cells but the header has 3 columns",
        f"{path}:7: enrolled_on 'someday' is not a date; write it as YYYY-MM-DD",
        f"import of {path} refused: 4 problems, nothing was written; fix the rows above and import again",
    ]
    # the same for a workbook's values under no header, and for the learning record's imports
    book = xlsx(tmp_path / "roll.xlsx", [["pupil_id", "class", "enrolled_on"], ["P-001", "1AJ", "2023-09-04", "Amy"],
                                         ["P-002", "9ZZ", "2023-09-04"]])
    lines = refused(school, lambda: imports.import_pupils(school, book), ImportRefused)
    assert [line.split(": ", 1)[0] for line in lines[:-1]] == [f"{book}!Sheet1:2", f"{book}!Sheet1:3"]
    outcomes = csv_file(tmp_path / "outcomes.csv", "outcome_id,pupil_id,area,description\n"
                                                  "O-1,P-001,semh,Manages change,extra\nO-2,P-404,semh,Waits\n")
    lines = refused(school, lambda: learning_imports.import_outcomes(school, outcomes), ImportRefused)
    assert lines[:-1] == [f"{outcomes}:2: 5 cells but the header has 4 columns",
                          f"{outcomes}:3: pupil P-404 is not on the roll; import pupils first"]


def test_merged_cells_in_a_list_of_records_are_refused(school: Ledger, tmp_path: Path) -> None:
    # A class written once and merged down over its pupils: every row but the first has no class.
    book = xlsx(tmp_path / "roll.xlsx", [["pupil_id", "class", "enrolled_on"], ["P-001", "1AJ", "2023-09-04"],
                                         ["P-002", None, "2023-09-04"], ["P-003", "APOLLO", "2023-09-04"]],
                merges=("B2:B3",))
    lines = refused(school, lambda: imports.import_pupils(school, book), ImportRefused)
    assert lines[0] == f"{book}!Sheet1:2: cells B2:B3 are merged; unmerge them so that every row has its own value"


def test_empty_sheets_and_missing_sheets_are_refused(school: Ledger, tmp_path: Path) -> None:
    book = xlsx(tmp_path / "roll.xlsx", [], sheet="Empty", before={"Notes": [["nothing here"]]})
    lines = refused(school, lambda: imports.import_pupils(school, book, sheet="Empty"))
    assert lines == [f"{book}!Empty: the sheet is empty; its first row must name the columns pupil_id,class,enrolled_on"]
    lines = refused(school, lambda: imports.import_pupils(school, book, sheet="Roll"))
    assert lines == [f"{book}: no sheet named 'Roll'; its sheets are 'Notes', 'Empty'"]
    header_only = xlsx(tmp_path / "header.xlsx", [["pupil_id", "class", "enrolled_on"]])
    lines = refused(school, lambda: imports.import_pupils(school, header_only))
    assert lines == [f"{header_only}!Sheet1: no data rows under the header; nothing to import"]


def test_values_in_columns_without_a_header_are_refused(school: Ledger, tmp_path: Path) -> None:
    book = xlsx(tmp_path / "roll.xlsx", [["pupil_id", "class", "enrolled_on"], ["P-001", "1AJ", "2023-09-04", "Amy"]])
    lines = refused(school, lambda: imports.import_pupils(school, book), ImportRefused)
    assert lines[0] == f"{book}!Sheet1:2: a value in column D, which has no header"


@pytest.mark.parametrize("name, content, message", [
    ("roll.xlsx", b"pupil_id,class\n", "not an Excel workbook that can be read"),
    ("roll.xls", b"\xd0\xcf\x11\xe0", "the old Excel .xls format is not read"),
    ("roll.docx", b"PK", "Word documents are read only by 'ledger import figures'"),
    ("roll.csv", b"pupil_id,class,enrolled_on\n\xff\xfe,1AJ,2023-09-04\n", "not UTF-8 text"),
])
def test_files_that_are_not_what_they_say_are_refused(school: Ledger, tmp_path: Path, name: str, content: bytes,
                                                      message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    lines = refused(school, lambda: imports.import_pupils(school, path))
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith(str(path))


def test_sheet_on_a_csv_is_refused_by_the_service(school: Ledger, tmp_path: Path) -> None:
    path = csv_file(tmp_path / "roll.csv", "pupil_id,class,enrolled_on\nP-001,1AJ,2023-09-04\n")
    assert "--sheet is for Excel workbooks" in refused(school, lambda: imports.import_pupils(school, path, sheet="x"))[0]


def test_read_table_keeps_its_signature_for_existing_callers(tmp_path: Path) -> None:
    path = csv_file(tmp_path / "x.csv", "A,b_c\n1, 2 \n")
    rows, digest = read_table(path, ("a",), ("b_c",))
    assert [(r.where, r.values) for r in rows] == [(f"{path}:2", {"a": "1", "b_c": "2"})]
    assert len(digest) == 64


# -- progress ------------------------------------------------------------------------------------------
def test_progress_wraps_only_long_imports_and_only_when_asked() -> None:
    seen: list[str] = []

    def show(items: Any, label: str) -> Any:
        seen.append(label)
        return iter(items)

    assert tracked([1, 2, 3]) == [1, 2, 3]
    token = PROGRESS.set(show)
    try:
        assert list(tracked(list(range(500)))) == list(range(500)) and seen == ["checking rows"]
        assert tracked([1]) == [1] and seen == ["checking rows"]
    finally:
        PROGRESS.reset(token)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_import_on_a_terminal_draws_a_progress_bar(school: Ledger, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.cli_exchange import terminal_progress

    path = csv_file(tmp_path / "roll.csv", "pupil_id,class,enrolled_on\n" + "".join(
        f"P-{i:04d},1AJ,2023-09-04\n" for i in range(1, 301)))
    screen = _Terminal()
    monkeypatch.setattr("sys.stdout", screen)
    with terminal_progress():
        imports.import_pupils(school, path)
    assert "checking rows" in screen.getvalue() and "300/300" in screen.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr("sys.stdout", piped)
    with terminal_progress():
        assert PROGRESS.get() is None
        imports.import_pupils(school, path)
    assert piped.getvalue() == ""


# -- the command line ----------------------------------------------------------------------------------
def run(db: Path, *args: str) -> Result:
    runner = CliRunner(env={"LEDGER_PROJECTION": ":memory:", "LEDGER_DB": None, "LEDGER_ACTOR": None})
    return runner.invoke(cli, ["--db", str(db), *args])


@pytest.fixture
def cli_school(tmp_path: Path) -> Path:
    db = tmp_path / "school.db"
    assert run(db, "--actor", "dm1", "init").exit_code == 0
    for class_id in ("1AJ", "APOLLO"):
        assert run(db, "--actor", "dm1", "class", "open", class_id, "--phase", "EYFS/KS1/KS2", "--from", "2023-24/T1").exit_code == 0
    return db


def test_cli_imports_xlsx_with_sheet_and_dry_run(cli_school: Path, tmp_path: Path) -> None:
    book = xlsx(tmp_path / "roll.xlsx", [["Pupil ID", "Class", "Enrolled On"]] + [[p, c, datetime.fromisoformat(d)] for p, c, d in ROLL],
                sheet="Roll", before={"Read me": [["exported from the MIS"]]})
    dry = run(cli_school, "--actor", "dm1", "import", "pupils", str(book), "--sheet", "Roll", "--dry-run")
    assert dry.exit_code == 0 and "would write 3 events" in dry.stdout
    done = run(cli_school, "--actor", "dm1", "import", "pupils", str(book), "--sheet", "Roll")
    assert done.exit_code == 0 and "wrote 3 events (3 PupilEnrolled)" in done.stdout
    again = run(cli_school, "--actor", "dm1", "import", "pupils", str(book), "--sheet", "Roll")
    assert again.exit_code == 0 and "nothing new to write" in again.stdout


def test_cli_refused_workbook_exits_1_with_one_line_per_problem(cli_school: Path, tmp_path: Path) -> None:
    book = xlsx(tmp_path / "roll.xlsx", [["pupil_id", "class", "enrolled_on"], ["P-001", "9ZZ", "2023-09-04"],
                                         ["P-002", "1AJ", "someday"]])
    result = run(cli_school, "--actor", "dm1", "import", "pupils", str(book))
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert [re.match(r"Error: (.*?): ", line).group(1) for line in lines[:2]] == [f"{book}!Sheet1:2", f"{book}!Sheet1:3"]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [
    ["import", "pupils", "roll.csv", "--sheet", "Roll"],  # --sheet on a CSV file
    ["import", "stages", "stages.csv", "--sheet", "S"],
    ["import", "judgements", "t1.xlsx", "--sheet"],  # --sheet without a name
])
def test_cli_sheet_misuse_is_a_command_line_error(cli_school: Path, args: list[str]) -> None:
    result = run(cli_school, "--actor", "dm1", *args)
    assert result.exit_code == 2, result.output
