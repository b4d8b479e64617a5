"""SQL lives in .sql files beside the module that runs it, one statement per file, with $n parameters: the core
store's in service/store/sql, a capability's in its own sql folder (`queries(folder)`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path


def queries(folder: Path) -> Callable[[str], str]:
    """The statements of one folder, by name, each read once."""

    @cache
    def sql(name: str) -> str:
        return (folder / f"{name}.sql").read_text(encoding="utf-8")

    return sql


sql = queries(Path(__file__).parent / "sql")
