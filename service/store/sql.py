"""SQL lives in .sql files beside this module, one statement per file, with $n parameters."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_DIR = Path(__file__).parent / "sql"


@cache
def sql(name: str) -> str:
    return (_DIR / f"{name}.sql").read_text(encoding="utf-8")
