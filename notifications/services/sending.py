"""`notify`: render a kind per channel and record one row per channel, queued or suppressed with
its reason; hand queued rows to delivery after commit."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone as dj_timezone

from core import clock
from core.middleware import valid_timezone
from notifications.enums import Channel, KindGroup, NotificationStatus, SuppressedReason
from notifications.models import Notification, NotificationPreference, RateLimitPolicy
from notifications.registry import NotificationKind, get_kind
from notifications.services.conf import setting
from notifications.services.preferences import lock_preferences
from notifications.tasks import deliver as deliver_task

DEDUPE_KEY_MAX = 255 - len(":dashboard")


class _LenientEncoder(DjangoJSONEncoder):
    """Stores a rendering context as JSON: model instances as references, the rest as text."""

    def default(self, o: Any) -> Any:
        if isinstance(o, models.Model):
            return {"type": o._meta.label_lower, "id": str(o.pk)}
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=_LenientEncoder))


def _related_refs(related: Iterable[Any] | None) -> list[dict[str, str]]:
    refs = []
    for item in related or ():
        if isinstance(item, models.Model):
            refs.append({"type": item._meta.label_lower, "id": str(item.pk)})
        elif isinstance(item, Mapping) and set(item) == {"type", "id"}:
            refs.append({"type": str(item["type"]), "id": str(item["id"])})
        else:
            raise ValueError(f'A related object is a model instance or {{"type": ..., "id": ...}}, not {item!r}.')
    return refs


def _channels(kind: NotificationKind, channels: Iterable[str] | None) -> tuple[str, ...]:
    if channels is None:
        return kind.channels
    chosen = tuple(dict.fromkeys(str(Channel(c)) for c in channels))
    unsupported = [c for c in chosen if c not in kind.channels]
    if not chosen or unsupported:
        raise ValueError(f"The kind '{kind.key}' is sent by {', '.join(kind.channels)}; asked for {chosen or 'none'}.")
    return chosen


def _existing_for_key(key: str) -> Notification | None:
    return Notification.objects.filter(dedupe_key=key).first()


def _window_count(*, user: Any, group: str, channel: str, since: datetime, limit: int) -> int:
    """Queued or sent notifications of the group on the channel since `since`, counted up to
    `limit` (the index on user, channel, group, created_at DESC answers it)."""
    return (
        Notification.objects.filter(
            user=user,
            channel=channel,
            kind_group=group,
            created_at__gt=since,
            status__in=(NotificationStatus.QUEUED, NotificationStatus.SENT),
        )
        .values("pk")[:limit]
        .count()
    )


def _suppressed_reason(
    *,
    kind: NotificationKind,
    channel: str,
    user: Any,
    preference: NotificationPreference,
    policies: dict[str, RateLimitPolicy],
    now: datetime,
) -> str:
    """Why this notification must not go out, or "" when it may."""
    if not user.is_active:
        return SuppressedReason.INACTIVE_USER
    if not kind.essential and kind.key in preference.opted_out_kinds:
        return SuppressedReason.OPTED_OUT
    if channel == Channel.EMAIL and not kind.essential and not preference.email_enabled:
        return SuppressedReason.EMAIL_DISABLED
    policy = policies.get(channel)
    if policy is not None and kind.group != KindGroup.TRANSACTIONAL:
        since = now - timedelta(hours=policy.window_hours)
        recent = _window_count(user=user, group=kind.group, channel=channel, since=since, limit=policy.max_count)
        if recent >= policy.max_count:
            return SuppressedReason.RATE_LIMITED
    return ""


def quiet_hours_end(*, at: datetime, start: time, end: time, zone: ZoneInfo) -> datetime | None:
    """When the quiet hours that hold the instant `at` end, in UTC; None outside them.

    `start`/`end` are wall-clock times in `zone`; an `end` earlier than `start` means the window
    crosses midnight. The end is a wall-clock time of its own day, so it stays 07:00 across a DST
    change; an end that does not exist that day (inside the spring gap) is taken with the offset
    before the change, i.e. that much later."""
    if start == end:
        return None
    local = at.astimezone(zone)
    wall = local.time()
    if start < end:
        inside, end_day = start <= wall < end, local.date()
    else:
        inside = wall >= start or wall < end
        end_day = local.date() + timedelta(days=1) if wall >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


def _user_zone(user: Any) -> ZoneInfo:
    return valid_timezone(getattr(user, "timezone", "")) or ZoneInfo("UTC")


def _create_once(key: str, fields: dict[str, Any]) -> tuple[Notification, bool]:
    """Insert the row for a dedupe key; if another transaction inserted it first, return theirs."""
    try:
        with transaction.atomic():
            return Notification.objects.create(dedupe_key=key, **fields), True
    except IntegrityError:
        existing = _existing_for_key(key)
        if existing is None:
            raise
        return existing, False


def _row_fields(
    *,
    spec: NotificationKind,
    channel: str,
    user: Any,
    preference: NotificationPreference,
    policies: dict[str, RateLimitPolicy],
    now: datetime,
    render_context: Mapping[str, Any],
    stored_context: Any,
    refs: list[dict[str, str]],
) -> dict[str, Any]:
    """The fields of one notification row: rendered content, queued or suppressed, held back by
    quiet hours for nudges."""
    # Dates render in the recipient's time zone (`|date` and `localtime` follow the active zone).
    with dj_timezone.override(_user_zone(user)):
        rendered = spec.render(channel, render_context)
    reason = _suppressed_reason(
        kind=spec, channel=channel, user=user, preference=preference, policies=policies, now=now
    )
    scheduled_for = None
    if not reason and spec.group == KindGroup.NUDGE and preference.has_quiet_hours:
        scheduled_for = quiet_hours_end(
            at=now, start=preference.quiet_hours_start, end=preference.quiet_hours_end, zone=_user_zone(user)
        )
    return {
        "user": user,
        "channel": channel,
        "kind": spec.key,
        "kind_group": spec.group,
        "template_name": spec.template_name,
        "subject": rendered.subject,
        "body_text": rendered.body_text,
        "body_html": rendered.body_html,
        "dashboard_text": rendered.dashboard_text,
        "context": stored_context,
        "related": refs,
        "status": NotificationStatus.SUPPRESSED if reason else NotificationStatus.QUEUED,
        "suppressed_reason": reason,
        "scheduled_for": scheduled_for,
    }


def schedule_delivery(notification_id: Any) -> None:
    """Hand the row to a worker once the transaction commits. A lost task is harmless: the
    `notification_dispatch` job delivers whatever is still queued and due."""
    if not setting("NOTIFICATIONS_DELIVER_ON_COMMIT"):
        return
    transaction.on_commit(lambda: deliver_task.delay(str(notification_id)), robust=True)


@transaction.atomic
def notify(
    *,
    user: Any,
    kind: str,
    context: Mapping[str, Any] | None = None,
    channels: Iterable[str] | None = None,
    dedupe_key: str | None = None,
    related: Iterable[Any] | None = None,
) -> list[Notification]:
    """Notify `user` of `kind` on each channel (default: the kind's channels) and return one
    row per channel, in channel order.

    Rules: a dedupe key names one notification per channel forever; calling again returns the
    existing rows and delivers nothing again. Inactive users, opted-out non-essential kinds and
    non-essential e-mail with e-mail turned off are recorded as suppressed. Kind groups with a
    rate-limit policy (never "transactional") allow `max_count` queued or sent rows per user and
    channel in the rolling window; more are recorded as suppressed (`rate_limited`). Nudges
    inside the user's quiet hours wait until they end. Templates render with the caller's
    context plus `user` (the recipient). Unknown kinds and channels raise LookupError/ValueError."""
    spec = get_kind(kind)
    chosen = _channels(spec, channels)
    refs = _related_refs(related)
    if dedupe_key is not None and not (0 < len(dedupe_key) <= DEDUPE_KEY_MAX):
        raise ValueError(f"A dedupe key holds 1 to {DEDUPE_KEY_MAX} characters.")
    context = dict(context or {})
    render_context = {**context, "user": user}
    stored_context = _json_safe(context)

    preference = lock_preferences(user)
    now = clock.now()
    policies: dict[str, RateLimitPolicy] = {}
    if spec.group != KindGroup.TRANSACTIONAL:
        policies = {p.channel: p for p in RateLimitPolicy.objects.filter(group=spec.group, channel__in=chosen)}

    results: list[Notification] = []
    for channel in chosen:
        key = f"{dedupe_key}:{channel}" if dedupe_key is not None else None
        if key is not None:
            existing = _existing_for_key(key)
            if existing is not None:
                if existing.user_id != user.pk:
                    raise ValueError(f"The dedupe key '{key}' already names a notification to another user.")
                results.append(existing)
                continue
        fields = _row_fields(
            spec=spec,
            channel=channel,
            user=user,
            preference=preference,
            policies=policies,
            now=now,
            render_context=render_context,
            stored_context=stored_context,
            refs=refs,
        )
        if key is not None:
            notification, created = _create_once(key, fields)
        else:
            notification, created = Notification.objects.create(**fields), True
        if created and notification.status == NotificationStatus.QUEUED and notification.scheduled_for is None:
            schedule_delivery(notification.pk)
        results.append(notification)
    return results


@transaction.atomic
def notify_many(
    *,
    kind: str,
    items: Iterable[tuple[Any, Mapping[str, Any], Iterable[Any] | None]],
    channels: Iterable[str] | None = None,
) -> list[Notification]:
    """`notify` for many people at once, with the same rules (suppression, rate limits, quiet
    hours) and no dedupe keys: the caller guarantees once (e.g. a claim row in the same
    transaction). `items` are `(user, context, related)`, at most one per user. The users'
    preference rows are locked in one query, in id order (so concurrent batches cannot deadlock),
    and the rows are inserted in one statement."""
    spec = get_kind(kind)
    chosen = _channels(spec, channels)
    items = list(items)
    users = [user for user, _, _ in items]
    if len({user.pk for user in users}) != len(users):
        raise ValueError("notify_many takes at most one item per user.")
    if not items:
        return []
    ids = sorted(user.pk for user in users)
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user_id=pk) for pk in ids], ignore_conflicts=True
    )
    preferences = {
        p.user_id: p
        for p in NotificationPreference.objects.select_for_update().filter(user_id__in=ids).order_by("user_id")
    }
    now = clock.now()
    policies: dict[str, RateLimitPolicy] = {}
    if spec.group != KindGroup.TRANSACTIONAL:
        policies = {p.channel: p for p in RateLimitPolicy.objects.filter(group=spec.group, channel__in=chosen)}
    rows: list[Notification] = []
    for user, context, related in items:
        context = dict(context or {})
        render_context = {**context, "user": user}
        stored_context = _json_safe(context)
        refs = _related_refs(related)
        for channel in chosen:
            fields = _row_fields(
                spec=spec,
                channel=channel,
                user=user,
                preference=preferences[user.pk],
                policies=policies,
                now=now,
                render_context=render_context,
                stored_context=stored_context,
                refs=refs,
            )
            rows.append(Notification(**fields))
    Notification.objects.bulk_create(rows, batch_size=1000)
    due = [row.pk for row in rows if row.status == NotificationStatus.QUEUED and row.scheduled_for is None]
    if due and setting("NOTIFICATIONS_DELIVER_ON_COMMIT"):
        transaction.on_commit(lambda: [deliver_task.delay(str(pk)) for pk in due], robust=True)
    return rows
