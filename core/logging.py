"""Log records carry the request id; production writes one JSON object per line.

`RequestIdFilter` sits on the handlers (settings.LOGGING), so every record that reaches them,
whichever logger it came from, gets `request_id` ("-" outside of a request or task).
`JsonFormatter` writes time (UTC, ISO 8601), level, logger, message, request id, the exception
when there is one, and any `extra=` fields the caller passed.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from core.request_id import get_request_id

NO_REQUEST_ID = "-"
# Attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = get_request_id() or NO_REQUEST_ID
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or get_request_id() or NO_REQUEST_ID,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(data, default=str, ensure_ascii=False)
