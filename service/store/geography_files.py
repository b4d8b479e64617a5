"""The files of a geography folder, read: which of them holds what (recognised by content,
service/domain/geofiles.py), and each read whole or refused naming the file and line, never a crash."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from service.domain.decoding import DECODE_ERRORS, problem_from
from service.domain.errors import ImportRejected, RecordProblem, invalid
from service.domain.geofiles import Boundaries, recognise_boundaries, recognise_table


@dataclass
class Found:
    """The files of a folder, by what they hold."""

    boundaries: dict[str, list[tuple[Path, Boundaries]]] = field(default_factory=dict)
    tables: dict[str, list[Path]] = field(default_factory=dict)
    unrecognised: list[tuple[Path, str]] = field(default_factory=list)
    """Files that hold none of the parts, each with why (said in the report, so a broken file is not passed over)."""


def find_files(folder: Path) -> Found:
    """Every GeoJSON and CSV file under the folder, recognised by its content."""
    if not folder.is_dir():
        raise invalid("folder", f"{folder} is not a folder")
    found = Found()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix in (".geojson", ".json"):
            layer, why = boundaries_of(path)
            if layer is None:
                found.unrecognised.append((path, why))
            else:
                found.boundaries.setdefault(layer.layer, []).append((path, layer))
        elif suffix == ".csv":
            try:
                with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
                    first = next(csv.reader(f), [])
            except csv.Error as e:
                found.unrecognised.append((path, f"not a CSV table ({e})"))
                continue
            kind = recognise_table(first)
            if kind is None or kind == "sites":
                found.unrecognised.append((path, "its first row is no header (or Code-Point Open row) we know"))
            else:
                found.tables.setdefault(kind, []).append(path)
    return found


def text_of(path: Path) -> str:
    """A file's text, or a refusal naming it: not UTF-8, or holding a NUL byte."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise refusal(path, f"not UTF-8 text (byte {e.start})") from None
    if "\x00" in text:
        raise refusal(path, "holds a NUL byte: not a text table")
    return text


def table_of(path: Path) -> list[list[str]]:
    """A CSV file's rows, or a refusal naming the file and the line the csv module could not read."""
    reader = csv.reader(io.StringIO(text_of(path), newline=None))
    try:
        return list(reader)
    except csv.Error as e:
        raise refusal(path, f"line {reader.line_num + 1}: not a CSV table ({e})") from None


def refusal(path: Path, reason: str) -> ImportRejected:
    return ImportRejected((RecordProblem(section=path.name, index=0, key=None, field="file", reason=reason),))


class _Collection(msgspec.Struct, frozen=True):
    features: list[dict[str, Any]]
    type: str = ""


def read_features(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    try:
        return msgspec.json.decode(data, type=_Collection).features
    except DECODE_ERRORS as e:
        p = problem_from(e, data=data)
        raise ImportRejected(
            (RecordProblem(section=path.name, index=0, key=None, field=p.field, reason=p.reason),), malformed=True
        ) from None


def boundaries_of(path: Path) -> tuple[Boundaries | None, str]:
    """The layer a GeoJSON file is, or why it is none."""
    try:
        features = read_features(path)
    except ImportRejected as e:
        return None, f"not a GeoJSON FeatureCollection ({e.problems[0].reason})"
    props = features[0].get("properties") if features else None
    layer = recognise_boundaries(props) if isinstance(props, dict) else None
    return layer, "" if layer else "its features carry neither PFAyyCD and PFAyyNM nor LADyyCD and LADyyNM"


def choose(candidates: list[tuple[Path, Boundaries]]) -> tuple[Path, Boundaries, list[Path]]:
    """The newest codes, then the smallest file (the most generalised boundaries: what the search reads fastest)."""
    ranked = sorted(candidates, key=lambda c: (-c[1].year, c[0].stat().st_size, c[0].name))
    return ranked[0][0], ranked[0][1], [p for p, _ in ranked[1:]]
