"""Data protection use-cases: export everything the platform holds about a person, and erase it.

Both walk `privacy.registry`. Erasure anonymises in place: the account row and every row that a
figure counts stay (so counts, rates, VIS and SROI do not move); free text, contact data and
credentials are cleared or deleted, and the e-mail address is replaced wherever a log or event
names it. The erasure itself is audited with counts, never with the erased values.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from core import clock
from core.audit import audit_record
from core.errors import Conflict, ValidationFailed
from privacy.registry import ERASED_LABEL, Entry, entries, erased_email

# Credentials are never exported, not even as hashes.
SECRET_FIELDS: dict[str, frozenset[str]] = {
    "accounts.User": frozenset({"password"}),
    "accounts.ApiToken": frozenset({"key_hash"}),
    "scheduling.CalendarFeed": frozenset({"token"}),
}
MAX_REASON = 2000


@dataclass
class ErasureReport:
    user_id: str
    email: str  # the address the account has now
    already_erased: bool
    anonymised: dict[str, int] = field(default_factory=dict)  # rows whose personal fields were cleared
    deleted: dict[str, int] = field(default_factory=dict)
    rewritten: dict[str, int] = field(default_factory=dict)  # rows where the e-mail/name was replaced
    audit_entry_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def total(self) -> int:
        return sum(self.anonymised.values()) + sum(self.deleted.values()) + sum(self.rewritten.values())


def _model(entry: Entry) -> type[models.Model]:
    return apps.get_model(entry.model)


def _label(entry: Entry) -> str:
    return entry.model.lower()


def _plain(value: Any) -> Any:
    """JSON-safe: decimals, datetimes, dates, times and UUIDs as strings."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _row(model: type[models.Model], obj: models.Model, secret: frozenset[str]) -> dict[str, Any]:
    return {
        f.attname: getattr(obj, f.attname)
        for f in model._meta.concrete_fields
        if f.name not in secret and f.attname not in secret
    }


def _mention_filter(entry: Entry, email: str) -> tuple[dict[str, Any], Q]:
    """Annotations and a filter for rows whose `mentions` columns contain the e-mail."""
    model = _model(entry)
    annotations: dict[str, Any] = {}
    query = Q(pk__in=[])
    for name in entry.mentions:
        if isinstance(model._meta.get_field(name), models.JSONField):
            alias = f"_privacy_{name}_text"
            annotations[alias] = Cast(name, TextField())
            query |= Q(**{f"{alias}__icontains": email})
        else:
            query |= Q(**{f"{name}__icontains": email})
    return annotations, query


def _email_pattern(email: str) -> re.Pattern[str]:
    """The address as a whole word: `ann@example.org` does not match inside `joann@example.org`."""
    return re.compile(r"(?<![\w.+-])" + re.escape(email) + r"(?![\w-]|\.\w)", re.IGNORECASE)


def _mentioning(entry: Entry, email: str) -> models.QuerySet:
    """Candidates (the database match is a substring match; `_names` decides)."""
    annotations, query = _mention_filter(entry, email)
    return _model(entry).objects.alias(**annotations).filter(query)


def _names(obj: models.Model, entry: Entry, pattern: re.Pattern[str]) -> bool:
    for name in entry.mentions:
        value = getattr(obj, name)
        text = value if isinstance(value, str) else json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
        if pattern.search(text or ""):
            return True
    return False


def person_rows(entry: Entry, user: Any) -> list[models.Model]:
    """The rows of `entry` that belong to the person and, when `export_mentions`, those that name
    their e-mail address; ordered by primary key."""
    model = _model(entry)
    rows = {obj.pk: obj for obj in model.objects.filter(entry.person_filter(user))}
    if entry.mentions and entry.export_mentions and user.email:
        pattern = _email_pattern(user.email)
        for obj in _mentioning(entry, user.email).exclude(pk__in=list(rows)):
            if _names(obj, entry, pattern):
                rows[obj.pk] = obj
    return [rows[pk] for pk in sorted(rows, key=str)]


def person_export(*, user: Any) -> dict[str, Any]:
    """Everything the platform holds about `user`, as plain JSON: `data` maps `app.model` to its
    rows (every field except credentials), `summary` counts them."""
    data: dict[str, list[dict[str, Any]]] = {}
    for entry in entries():
        if not entry.owners and entry.extra is None and not entry.export_mentions:
            continue
        model = _model(entry)
        secret = SECRET_FIELDS.get(entry.model, frozenset())
        rows = [_row(model, obj, secret) for obj in person_rows(entry, user)]
        data[_label(entry)] = _plain(rows)
    return {
        "person": {"id": str(user.pk), "email": user.email, "full_name": user.full_name},
        "generated_at": clock.now().isoformat(),
        "summary": {"rows": {label: len(rows) for label, rows in data.items()}, "total": sum(map(len, data.values()))},
        "data": data,
        "about": {
            label: entry.note
            for entry in entries()
            if (label := _label(entry)) in data  # what each table is
        },
    }


@transaction.atomic
def person_export_record(*, user: Any, actor: Any, via: str) -> dict[str, Any]:
    """`person_export`, with an audit row saying who took the export and through what (`admin`,
    `command`, `api`); the row holds the counts, not the data."""
    export = person_export(user=user)
    audit_record(
        actor=actor,
        action="person.exported",
        target=user,
        changes={"via": via, "rows": export["summary"]["total"]},
        actor_label=_label_of(actor),
    )
    return export


def _rewrite(value: Any, pattern: re.Pattern[str], new_email: str, name: str) -> Any:
    """`value` with every occurrence of the e-mail (`pattern`) replaced by `new_email` and every
    string equal to the person's full name cleared, through nested JSON."""
    if isinstance(value, str):
        if name and value.strip().casefold() == name.casefold():
            return ""
        return pattern.sub(new_email, value)
    if isinstance(value, list):
        return [_rewrite(v, pattern, new_email, name) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, pattern, new_email, name) for k, v in value.items()}
    return value


def _rewrite_mentions(entry: Entry, email: str, new_email: str, name: str) -> int:
    model = _model(entry)
    count = 0
    has_updated_at = any(f.name == "updated_at" for f in model._meta.concrete_fields)
    pattern = _email_pattern(email)
    for obj in _mentioning(entry, email).only("pk", *entry.mentions).order_by("pk").select_for_update():
        if not _names(obj, entry, pattern):
            continue
        values = {n: _rewrite(getattr(obj, n), pattern, new_email, name) for n in entry.mentions}
        if has_updated_at:
            values["updated_at"] = clock.now()
        model.objects.filter(pk=obj.pk).update(**values)
        count += 1
    return count


def _label_of(actor: Any) -> str | None:
    """A system actor may be named by a string (`command`); people get their e-mail."""
    return actor if isinstance(actor, str) else None


def _check(*, user: Any, actor: Any, reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(errors={"reason": "Say why the data is erased (the request it answers)."})
    if len(reason) > MAX_REASON:
        raise ValidationFailed(errors={"reason": f"At most {MAX_REASON} characters."})
    if user.is_superuser:
        raise Conflict("A superuser's data cannot be erased; remove the superuser status first.")
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        raise Conflict("You cannot erase your own data; another operator must do it.")
    return reason


@transaction.atomic
def person_erase(*, user: Any, actor: Any, reason: str) -> ErasureReport:
    """Anonymise `user` in place (see `privacy.registry` for what each table loses and keeps).
    Idempotent: erasing an erased person changes nothing more and is audited again."""
    reason = _check(user=user, actor=actor, reason=reason)
    User = type(user)
    user = User.objects.select_for_update().get(pk=user.pk)
    old_email, old_name = user.email, user.full_name
    new_email = erased_email(user.pk)
    report = ErasureReport(user_id=str(user.pk), email=new_email, already_erased=old_email == new_email)
    now = clock.now()

    for entry in entries():
        model = _model(entry)
        label = _label(entry)
        has_updated_at = any(f.name == "updated_at" for f in model._meta.concrete_fields)
        if entry.owners or entry.extra is not None:
            rows = model.objects.filter(entry.person_filter(user))
            if entry.delete:
                _, per_model = rows.delete()
                for name, deleted in per_model.items():
                    if deleted:
                        report.deleted[name.lower()] = report.deleted.get(name.lower(), 0) + deleted
            elif entry.erase:
                if entry.erase_where is not None:
                    rows = rows.filter(entry.erase_where)
                values = dict(entry.erase)
                if has_updated_at:
                    values["updated_at"] = now
                changed = rows.update(**values)
                if changed:
                    report.anonymised[label] = changed
        if entry.mentions and not report.already_erased:
            rewritten = _rewrite_mentions(entry, old_email, new_email, old_name)
            if rewritten:
                report.rewritten[label] = rewritten

    # The account row itself: a new address, no usable password, no roles.
    user.email = new_email
    user.set_unusable_password()
    user.last_login = None
    user.save(update_fields=["email", "password", "last_login", "updated_at"])
    user.groups.clear()
    user.user_permissions.clear()

    entry = audit_record(
        actor=actor,
        action="person.erased",
        target=user,
        changes={
            "already_erased": report.already_erased,
            "anonymised": report.anonymised,
            "deleted": report.deleted,
            "rewritten": report.rewritten,
        },
        reason=reason,
        actor_label=_label_of(actor),
    )
    report.audit_entry_id = str(entry.pk)
    return report


__all__ = ["ERASED_LABEL", "ErasureReport", "person_erase", "person_export", "person_export_record", "person_rows"]
