"""Where the logs go: one JSON object a line in production (for a log pipeline), readable text otherwise."""
from __future__ import annotations

import logging
import sys

from api.core.errors import RedactPersonalData


def configure_logging(production: bool, level: int = logging.INFO, stream=None) -> None:
    """One JSON object a line in production (for a log pipeline), readable text otherwise. Personal data
    never reaches a record: no header, token, key or variable is logged, and phone numbers are masked
    (`api.core.errors.RedactPersonalData`)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if production:
        from pythonjsonlogger.json import JsonFormatter
        handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s", timestamp="time",
                                           rename_fields={"levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactPersonalData())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
