"""Status transitions as data: each status field has one table of allowed `from -> to` pairs,
and `apply_transition` is the one way a service changes a status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models

from core.audit import audit_record, json_value
from core.errors import IllegalTransition


class TransitionTable:
    def __init__(self, name: str, allowed: Mapping[str, set[str] | frozenset[str]]) -> None:
        self.name = name
        self.allowed = {k: frozenset(v) for k, v in allowed.items()}

    def targets(self, current: str) -> frozenset[str]:
        return self.allowed.get(current, frozenset())

    def check(self, current: str, target: str) -> None:
        if target not in self.targets(current):
            allowed = ", ".join(sorted(self.targets(current))) or "none (final state)"
            article = "An" if self.name[:1] in "aeiou" else "A"
            raise IllegalTransition(
                f"{article} {self.name} cannot go from '{current}' to '{target}'. Allowed from '{current}': {allowed}."
            )


def apply_transition(
    instance: models.Model,
    *,
    table: TransitionTable,
    to: str,
    actor: Any,
    action: str,
    reason: str = "",
    field: str = "status",
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Check the table, save the new status (and `extra` fields) with `update_fields`, and write
    the audit row. Returns the previous status. The caller holds the row lock and emits events."""
    current = getattr(instance, field)
    table.check(current, to)
    changes: dict[str, Any] = {field: [current, to]}
    setattr(instance, field, to)
    for name, value in (extra or {}).items():
        changes[name] = [json_value(getattr(instance, name)), json_value(value)]
        setattr(instance, name, value)
    instance.save(update_fields=[field, *(extra or {}).keys(), "updated_at"])
    audit_record(actor=actor, action=action, target=instance, changes=changes, reason=reason)
    return current
