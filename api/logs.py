"""Structured logs: one JSON object per line (time, level, logger, message, extra fields).
The access line of each request (route template, status, duration) is written to
``access`` by :class:`api.metrics.MetricsMiddleware`, which times the request anyway."""

from __future__ import annotations

import json
import logging
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({})))
access = logging.getLogger("sitewatch.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(level: int = logging.INFO) -> None:
    """JSON lines on stderr for sitewatch's loggers (uvicorn keeps its own format)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("sitewatch")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
