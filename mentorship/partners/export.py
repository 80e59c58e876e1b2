"""Reading a partner export: a directory with one file per record kind, each `<kind>.csv` (UTF-8,
a header row naming the columns) or `<kind>.json` (an array of objects, or an object holding that
array under the kind's name). Any kind may be missing; unknown columns are ignored.

Problems with a whole file (unreadable, not JSON, a required column missing, both a CSV and a
JSON file of one kind) raise `ExportError` before anything is imported. Problems with one row are
returned with it and reported as that row's rejection. Rows are numbered from 1 in file order (a
CSV's header is not counted: row 1 is the file's second line)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mentorship.partners.records import KINDS, Kind

FORMATS = ("csv", "json")


class ExportError(Exception):
    """The export cannot be read as a whole (names the file and the problem)."""


@dataclass
class ExportFile:
    kind: Kind
    name: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows) + len(self.bad)


def _read_csv(kind: Kind, path: Path) -> ExportFile:
    result = ExportFile(kind, path.name)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in (reader.fieldnames or [])]
            missing = [name for name in kind.required if name not in header]
            if missing:
                raise ExportError(f"{path.name}: the header lacks the column(s) {', '.join(missing)}.")
            reader.fieldnames = header
            for number, row in enumerate(reader, start=1):
                if None in row:
                    result.bad.append((number, "The row has more cells than the header has columns."))
                    continue
                result.rows.append((number, {k: v for k, v in row.items() if k}))
    except UnicodeDecodeError:
        raise ExportError(f"{path.name}: not UTF-8 text.") from None
    except csv.Error as exc:
        raise ExportError(f"{path.name}: not a readable CSV file ({exc}).") from None
    return result


def _read_json(kind: Kind, path: Path) -> ExportFile:
    result = ExportFile(kind, path.name)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ExportError(f"{path.name}: not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise ExportError(f"{path.name}: not valid JSON ({exc}).") from None
    if isinstance(data, dict) and isinstance(data.get(kind.name), list):
        data = data[kind.name]
    if not isinstance(data, list):
        raise ExportError(f'{path.name}: expected an array of objects (or {{"{kind.name}": [...]}}).')
    for number, row in enumerate(data, start=1):
        if isinstance(row, dict):
            result.rows.append((number, row))
        else:
            result.bad.append((number, "The row is not a JSON object."))
    return result


def read_export(path: str | Path) -> list[ExportFile]:
    """The export's files in import order (users first)."""
    directory = Path(path)
    if not directory.is_dir():
        raise ExportError(f"{directory} is not a directory.")
    files: list[ExportFile] = []
    for kind in KINDS:
        present = [directory / f"{kind.name}.{fmt}" for fmt in FORMATS if (directory / f"{kind.name}.{fmt}").is_file()]
        if len(present) > 1:
            raise ExportError(f"Both {present[0].name} and {present[1].name} exist; keep one of them.")
        if not present:
            continue
        reader = _read_csv if present[0].suffix == ".csv" else _read_json
        files.append(reader(kind, present[0]))
    if not files:
        expected = ", ".join(f"{kind.name}.csv" for kind in KINDS)
        raise ExportError(f"{directory} holds no export file (expected some of {expected}, or .json).")
    return files
