"""Structured logs: one JSON object a line (PATHWAYS_LOG_FORMAT=json, the default), or plain text for a terminal.

Fields: time (UTC, ISO 8601), level, logger, message, the fields a record was given with `extra=` (the request log's
method, route, status and duration_ms), and a traceback when there is one. Nothing here adds a query string, a body
or a search input: what is logged is what the code chose to log, and the privacy tests read these lines.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from typing import Any

import msgspec

# The attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_encoder = msgspec.json.Encoder()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value if isinstance(value, str | int | float | bool) or value is None else str(value)
        if record.exc_info:
            entry["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return _encoder.encode(entry).decode()


def formatters(log_format: str) -> dict[str, dict[str, Any]]:
    """litestar's LoggingConfig formatters: its queue listener formats with the one named "standard"."""
    if log_format == "json":
        return {"standard": {"()": JsonFormatter}}
    return {"standard": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}}
