"""Database helpers that keep PostgreSQL (the source of truth) and SQLite (the embedded
default) answering the same queries."""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import Q


def json_list_contains(field: str, value: str) -> Q:
    """Rows whose JSON list `field` holds the string `value`.

    PostgreSQL uses the jsonb containment operator; SQLite has no such lookup, so there the
    list's JSON text is searched for the quoted value (exact element match, as values are
    normalised slugs)."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [value]})
    return Q(**{f"{field}__contains": json.dumps(value)})
