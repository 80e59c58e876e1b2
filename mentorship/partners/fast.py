"""Bulk writes for the batch import that cost little per row on PostgreSQL:

- `insert`: rows through `COPY ... FROM STDIN` (the values Django would insert: `pre_save` fills
  `created_at` / `updated_at`, `get_db_prep_save` adapts them), instead of one huge parameterised
  `INSERT` per thousand rows;
- `update`: one `UPDATE ... FROM (VALUES ...)` per chunk, instead of `bulk_update`'s `CASE WHEN`
  per field and row.

- `emit`: outbox events of one type for many rows, the same rows `emit_many` writes.

Other databases (the embedded SQLite default) use `bulk_create` / `bulk_update` / `emit_many`.
Nothing here knows a mentorship model: the import passes the rows and fields."""

from __future__ import annotations

import operator
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

from core import clock
from crm_sync import registry as event_registry
from crm_sync.models import OutboxEvent
from crm_sync.outbox import PRODUCER, InvalidEventPayload, actor_ref, emit_many
from crm_sync.outbox import _schedule_kick as schedule_dispatch

UPDATE_CHUNK = 1000


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _getters(fields) -> list:
    """How to read each column's value off a row as COPY takes it (what `get_db_prep_save` gives
    for these types, without its cost per row)."""
    getters = []
    for f in fields:
        if isinstance(f, models.JSONField):
            getters.append(lambda row, f=f: f.get_db_prep_save(getattr(row, f.attname), connection))
        else:
            getters.append(operator.attrgetter(f.attname))
    return getters


def insert(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    if not rows:
        return
    if not _postgres():
        model.objects.bulk_create(rows, batch_size=500)
        return
    fields = list(model._meta.concrete_fields)
    now = timezone.now()
    stamps = [f.attname for f in fields if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add)]
    for row in rows:  # what Django's pre_save does for created_at / updated_at of a new row
        for name in stamps:
            if getattr(row, name) is None:
                setattr(row, name, now)
    getters = _getters(fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([get(row) for get in getters])
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias


def update(model: type[models.Model], rows: Sequence[models.Model], names: Sequence[str]) -> None:
    """Write the named fields of rows that exist (by primary key)."""
    if not rows:
        return
    if not _postgres():
        model.objects.bulk_update(rows, list(names), batch_size=500)
        return
    meta = model._meta
    fields = [meta.pk, *(meta.get_field(name) for name in names)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields[1:])
    aliases = ", ".join(quote(f.column) for f in fields)
    row_sql = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in fields) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPDATE_CHUNK):
            part = rows[start : start + UPDATE_CHUNK]
            params = []
            for row in part:
                params.extend(f.get_db_prep_save(f.pre_save(row, False), connection) for f in fields)
            values = ", ".join([row_sql] * len(part))
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} FROM (VALUES {values}) AS v ({aliases}) "
                f"WHERE t.{quote(meta.pk.column)} = v.{quote(meta.pk.column)}",
                params,
            )


def emit(event_type: str, events: Sequence[tuple[tuple[str, Any], dict[str, Any]]], *, actor: Any) -> int:
    """Outbox events of one type for many rows, with the fields `crm_sync.outbox.emit_many`
    writes, through COPY. Each call's payloads come from one builder over typed rows (the one the
    per-record services use), so the first is validated against the registry's active schema: a
    builder that drifts from its schema fails the import before anything is kept. Answers the
    number written."""
    if not events:
        return 0
    if not _postgres():
        emit_many(event_type=event_type, events=list(events), actor=actor)
        return len(events)
    version = event_registry.registry().get(event_type).active
    errors = event_registry.validation_errors(version.validator, events[0][1], prefix="")
    if errors:
        raise InvalidEventPayload(event_type, version.version, errors)
    now = clock.now()
    who = actor_ref(actor)
    rows = [
        OutboxEvent(
            id=uuid.uuid4(),
            event_type=event_type,
            schema_version=version.version,
            occurred_at=now,
            producer=PRODUCER,
            subject_type=subject_type,
            subject_id=str(subject_id),
            actor=who,
            payload=payload,
        )
        for (subject_type, subject_id), payload in events
    ]
    insert(OutboxEvent, rows)
    schedule_dispatch()
    return len(rows)
