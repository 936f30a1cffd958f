"""Word documents shaped like the school's report, for the figures import tests and the README.

``tests/fixtures/ehcp-data-2023-24.txt`` is the text of the school's Word document (the seed) as
Word saves it as plain text: paragraphs as lines, and each table row as its cells, one per line,
each starting with a tab, rows separated by a blank line (a cell merged across two columns, like
'TERM 1', appears once). :func:`text_to_docx` turns such text back into a .docx with real tables
and merged heading cells, so the import reads a document laid out like the school's.

    python tests/figures_fixtures.py   # rebuilds tests/fixtures/*.docx
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_TEXT = FIXTURES / "ehcp-data-2023-24.txt"
HEADINGS = ["Class ", "Pupils making appropriate progress  ", "Pupils making smaller steps of progress ",
            "Pupils making appropriate progress  ", "Pupils making smaller steps of progress",
            "Pupils making appropriate progress  ", "Pupils making smaller steps of progress"]

# An invented earlier year in the school's layout (for the README and tests): no 1CW yet, APOLLO
# opened in term 2, 4LW had no term 3 figures. The numbers are made up; they describe no one.
EARLIER_YEAR = {
    "title": " EHCP Data 2022- 2023",
    "blocks": [
        ("EFYS / KS1 / KS2", [
            ["1AJ", "8", "1", "8", "1", "9", "0"], ["1BR", "9", "1", "9", "1", "10", "0"],
            ["1RF", "7", "2", "6", "3", "8", "1"], ["1SS", "8", "0", "8", "0", "7", "1"],
            ["2BW", "9", "0", "8", "1", "9", "0"], ["2CB", "6", "3", "7", "2", "8", "1"],
            ["2CM", "5", "3", "6", "2", "6", "2"], ["2LB", "7", "1", "6", "2", "6", "2"],
            ["2MD (PMLD)", "4", "4", "5", "3", "5", "3"], ["2THNS", "5", "1", "6", "0", "6", "0"],
            ["APOLLO ", "N/A", "N/A", "12", "3", "14", "1"],
        ]),
        ("KS3 / KS4", [
            ["3CW", "5", "2", "6", "1", "6", "1"], ["3LB", "7", "0", "6", "1", "7", "0"],
            ["3LP", "6", "2", "5", "3", "6", "2"], ["3LS", "8", "3", "9", "2", "10", "1"],
            ["3MW", "2", "7", "5", "4", "7", "2"], ["4AP", "8", "0", "7", "1", "8", "0"],
            ["4HM", "1", "4", "2", "3", "3", "2"], ["4LC", "6", "4", "8", "2", "9", "1"],
            ["4LW", "3", "5", "5", "3", "", ""],
        ]),
        ("KS5 ", [["6AO", "9", "1", "10", "0", "10", "0"], ["6MH", "10", "0", "10", "0", "10", "0 "]]),
    ],
}


def document_text(title: str, blocks: list[tuple[str, list[list[str]]]], intro: str = "") -> str:
    """Text in the seed's layout: title, intro, then per phase a heading and its table."""
    lines = [title, *([intro] if intro else [])]
    for heading, rows in blocks:
        lines.append(heading)
        table = [["", "TERM 1", "TERM 2", "TERM 3"], HEADINGS, *rows]
        for row in table:
            lines += [f"\t{cell}" for cell in row]
            lines.append("")
        lines.append("")
    return "\n".join(lines)


def parse_text(text: str) -> list[tuple[str, object]]:
    """[("p", paragraph) | ("table", rows)] in document order."""
    items: list[tuple[str, object]] = []
    rows: list[list[str]] = []
    row: list[str] | None = None
    for line in text.split("\n"):
        if line.startswith("\t"):
            row = [] if row is None else row
            row.append(line[1:])
            continue
        if row is not None:
            rows.append(row)
            row = None
        if line == "":
            continue
        if rows:
            items.append(("table", rows))
            rows = []
        items.append(("p", line))
    if row is not None:
        rows.append(row)
    if rows:
        items.append(("table", rows))
    return items


def text_to_docx(text: str, path: Path) -> Path:
    """A .docx of the text; a row with fewer cells than the table's width spans its cells over two columns."""
    import docx

    document = docx.Document()
    for kind, content in parse_text(text):
        if kind == "p":
            document.add_paragraph(str(content))
            continue
        rows = content
        assert isinstance(rows, list)
        width = max(len(r) for r in rows)
        table = document.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for r, cells in enumerate(rows):
            if len(cells) == width:
                for c, value in enumerate(cells):
                    table.cell(r, c).text = value
                continue
            table.cell(r, 0).text = cells[0]
            span = (width - 1) // max(1, len(cells) - 1)
            for i, value in enumerate(cells[1:]):
                first = 1 + i * span
                merged = table.cell(r, first).merge(table.cell(r, first + span - 1))
                merged.text = value
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def seed_docx(path: Path, replace: dict[str, str] | None = None) -> Path:
    """The seed document as .docx, with optional text replacements (for the bad-input corpus)."""
    text = SEED_TEXT.read_text(encoding="utf-8")
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text_to_docx(text, path)


def earlier_year_docx(path: Path) -> Path:
    intro = "Invented figures in the school's layout, for trying the import: they describe no one."
    return text_to_docx(document_text(EARLIER_YEAR["title"], EARLIER_YEAR["blocks"], intro), path)  # type: ignore[arg-type]


if __name__ == "__main__":
    print(seed_docx(FIXTURES / "ehcp-data-2023-24.docx"))
    print(earlier_year_docx(FIXTURES / "ehcp-data-2022-23.docx"))
