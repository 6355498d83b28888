"""Group the rows of a CSV or JSON Lines file by their `text` column: notes typed in after the event, say."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from . import Grouper


class FileError(ValueError):
    """A file that cannot be grouped, with the sentence that says why."""


def is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in (".jsonl", ".ndjson", ".json")


def read_rows(path: Path) -> tuple[list[dict], list[str], str | None]:
    """Return a file's rows, its columns in order and, for a CSV, its delimiter."""
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(f"{path}: not UTF-8 text") from None
    if is_jsonl(path):
        rows, columns = [], {}
        for number, line in enumerate(content.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise FileError(f"{path}, line {number}: not JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise FileError(f"{path}, line {number}: each line must be a JSON object")
            rows.append(row)
            columns.update(dict.fromkeys(row))
        return rows, list(columns), None
    try:
        dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.DictReader(io.StringIO(content), delimiter=delimiter)
    return list(reader), list(reader.fieldnames or []), delimiter


def write_rows(path: Path | None, rows: list[dict], columns: list[str], delimiter: str | None, jsonl: bool) -> str:
    """Write rows in the input's format (to `path`, or return the text when None)."""
    if jsonl:
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter or ",", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = out.getvalue()
    if path is not None:
        path.write_text(text, encoding="utf-8")
    return text


def group_file(source: Path, grouper: Grouper, by: Sequence[str] = (), column: str = "group",
               output: Path | None = None) -> tuple[str, int, int]:
    """Add a `column` with a group number to every row of a file (1 = the largest group).

    Rows are grouped within the values of the columns `by` (a tag, a table), as the synthesis groups within a tag.
    Returns the text written (or to write), the number of rows and of groups.
    """
    rows, columns, delimiter = read_rows(source)
    if "text" not in columns:
        raise FileError(f"{source}: no `text` column (columns: {', '.join(columns) or 'none'})")
    if column in columns:
        raise FileError(f"{source}: already has a `{column}` column; name the new one with --column")
    missing = [c for c in by if c not in columns]
    if missing:
        raise FileError(f"{source}: no column {', '.join(missing)} to group within")
    texts = [str(row.get("text") or "") for row in rows]
    buckets = [tuple(str(row.get(c)) for c in by) for row in rows] if by else None
    grouping = grouper.group(texts, grouper.vectors(texts), buckets)
    for row, group in zip(rows, grouping.group_of, strict=True):
        row[column] = group + 1
    text = write_rows(output, rows, [*columns, column], delimiter, is_jsonl(output or source))
    return text, len(rows), len(grouping.groups)
