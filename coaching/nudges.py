"""Coach messages: what each one lists, and how content held back by the rate limit folds into the
next message that goes out.

Every coach message (the kinds of `coaching.notices`, all in the "nudge" group) is about *items*,
each a small dict naming one pursuit and what to say about it:

    {"key": "deadline_24h:<pursuit id>", "type": "deadline", "window": "24h", "pursuit_id", "title", "deadline"}
    {"key": "micro_task:<pursuit id>", "type": "micro_task", "pursuit_id", "title", "deadline", "text"}
    {"key": "check_in:<pursuit id>", "type": "check_in", "pursuit_id", "title", "submitted_at"}

A message's content is decided per channel (e-mail, dashboard) because the notifications app
limits each channel on its own (the seeded "nudge" policy: one e-mail and one dashboard nudge per
person per rolling 24 h). Its stored context holds `items` (its own; also split by type as
`deadlines`, `micro_tasks`, `check_ins`), `earlier` (folded in) and `pursuit_ids` (of its own
items); `related` references every pursuit it mentions.

The folding rule: when a coach message is created on a channel, `earlier` lists the items of this
person's coach notifications on that channel that were suppressed as `rate_limited` since their
last coach message on that channel that went out (queued or sent), oldest first, each item once
(by key), leaving out items no longer true (a deadline or micro-task item whose pursuit is no
longer open or whose deadline has passed; a check-in item whose pursuit is no longer submitted or
outcome pending) and items about what the message already says itself (the same type and pursuit:
a 24 h reminder replaces the held-back 72 h one). Only the suppressed rows' own `items` fold,
never their `earlier`: a message that is itself held back still carries its own items forward,
once. When the message goes out, everything before it is caught up; when it is held back
too, the next one folds the lot.

`send` must run inside a transaction that holds the person's notification-preference lock
(`notifications.services.preferences.lock_preferences`): the jobs take it before deciding what is
new, so coach messages for one person are decided one at a time, whoever runs them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import F, OuterRef, Q, Subquery
from django.utils.dateparse import parse_datetime

from coaching import notices
from coaching.enums import OPEN_STATES, CoachState
from coaching.models import Pursuit
from notifications.enums import Channel, NotificationStatus, SuppressedReason
from notifications.models import Notification
from notifications.services import notify

CHANNELS = (Channel.EMAIL, Channel.DASHBOARD)
DATE_FIELDS = ("deadline", "submitted_at")
CHECK_IN_STATES = (CoachState.SUBMITTED, CoachState.OUTCOME_PENDING)


def deadline_item(pursuit: Pursuit | dict, window: str) -> dict[str, Any]:
    p = _values(pursuit)
    return {
        "key": f"deadline_{window}:{p['id']}",
        "type": "deadline",
        "window": window,
        "pursuit_id": str(p["id"]),
        "title": p["title"],
        "deadline": p["deadline"],
    }


def micro_task_item(task: dict[str, Any]) -> dict[str, Any]:
    """From `coaching.selectors.micro_task_for`."""
    return {
        "key": f"micro_task:{task['pursuit_id']}",
        "type": "micro_task",
        "pursuit_id": str(task["pursuit_id"]),
        "title": task["title"],
        "deadline": task["deadline"],
        "text": task["text"],
    }


def check_in_item(pursuit: Pursuit | dict) -> dict[str, Any]:
    p = _values(pursuit)
    return {
        "key": f"check_in:{p['id']}",
        "type": "check_in",
        "pursuit_id": str(p["id"]),
        "title": p["title"],
        "submitted_at": p["submitted_at"],
    }


def _values(pursuit: Pursuit | dict) -> dict[str, Any]:
    if isinstance(pursuit, dict):
        return pursuit
    return {
        "id": pursuit.pk,
        "title": pursuit.title,
        "deadline": pursuit.deadline,
        "submitted_at": pursuit.submitted_at,
    }


def _revived(item: dict[str, Any]) -> dict[str, Any]:
    """An item read back from a stored context: its times as datetimes again (for templates)."""
    item = dict(item)
    for name in DATE_FIELDS:
        if isinstance(item.get(name), str):
            item[name] = parse_datetime(item[name])
    return item


def sent_item_keys(user_ids: Iterable[Any], since: datetime) -> dict[Any, set[str]]:
    """The keys of the items of each person's coach notifications created after `since`, on any
    channel and whatever became of them (held-back items fold into a later message, so they count
    as announced). One query."""
    keys: dict[Any, set[str]] = {}
    rows = Notification.objects.filter(
        user_id__in=list(user_ids), kind__in=notices.COACH_KINDS, created_at__gt=since
    ).values_list("user_id", "context")
    for user_id, context in rows:
        bucket = keys.setdefault(user_id, set())
        for item in (context or {}).get("items", ()):
            bucket.add(item.get("key"))
    return keys


def held_back(user: Any, channel: str, now: datetime) -> list[dict[str, Any]]:
    """The items to fold into the next coach message on `channel` (the rule in the module
    docstring)."""
    return held_back_by_channel(user, now)[channel]


def held_back_by_channel(user: Any, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """`held_back` for each channel: one query, and one more when something was held back."""
    last_out = (
        Notification.objects.filter(
            user=OuterRef("user"),
            channel=OuterRef("channel"),
            kind__in=notices.COACH_KINDS,
            status__in=(NotificationStatus.QUEUED, NotificationStatus.SENT),
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    rows = (
        Notification.objects.filter(
            user=user,
            channel__in=CHANNELS,
            kind__in=notices.COACH_KINDS,
            status=NotificationStatus.SUPPRESSED,
            suppressed_reason=SuppressedReason.RATE_LIMITED,
        )
        .annotate(last_out=Subquery(last_out))
        .filter(Q(last_out__isnull=True) | Q(created_at__gt=F("last_out")))
        .order_by("created_at", "pk")
        .values_list("channel", "context")
    )
    found: dict[str, dict[str, dict[str, Any]]] = {channel: {} for channel in CHANNELS}
    for channel, context in rows:
        for item in (context or {}).get("items", ()):
            found[channel].setdefault(item.get("key"), _revived(item))
    ids = {item["pursuit_id"] for items in found.values() for item in items.values()}
    if not ids:
        return {channel: [] for channel in CHANNELS}
    states = {
        str(pk): (state, deadline)
        for pk, state, deadline in Pursuit.objects.filter(pk__in=ids).values_list("pk", "coach_state", "deadline")
    }
    return {
        channel: [item for item in items.values() if _still_true(item, states.get(item["pursuit_id"]), now)]
        for channel, items in found.items()
    }


def _still_true(item: dict[str, Any], state: tuple[str, datetime | None] | None, now: datetime) -> bool:
    if state is None:
        return False
    coach_state, deadline = state
    if item["type"] == "check_in":
        return coach_state in CHECK_IN_STATES
    return coach_state in OPEN_STATES and deadline is not None and deadline > now


def dedupe_key(kind: str, user: Any, stamp: str, items: list[dict[str, Any]]) -> str:
    """One message per person, run stamp and set of items: a second identical attempt (two runs
    at once) finds the first's rows and sends nothing."""
    digest = hashlib.sha256("|".join(sorted(item["key"] for item in items)).encode()).hexdigest()[:32]
    return f"{kind}:{user.pk}:{stamp}:{digest}"


def send(*, user: Any, kind: str, items: list[dict[str, Any]], now: datetime, key: str) -> list[Notification]:
    """Create the coach message about `items` on each channel, folding in what was held back on
    that channel; the notifications app queues it or records it as suppressed. Run inside a
    transaction that holds the person's preference lock."""
    rows: list[Notification] = []
    own = {(item["type"], item["pursuit_id"]) for item in items}
    held = held_back_by_channel(user, now)
    earlier = {
        channel: [item for item in held[channel] if (item["type"], item["pursuit_id"]) not in own]
        for channel in CHANNELS
    }
    # The same content on both channels (the usual case) is one `notify` call.
    groups = [CHANNELS] if earlier[CHANNELS[0]] == earlier[CHANNELS[1]] else [(channel,) for channel in CHANNELS]
    for channels in groups:
        folded = earlier[channels[0]]
        pursuit_ids = list(dict.fromkeys(item["pursuit_id"] for item in (*items, *folded)))
        context = {
            "items": items,
            "earlier": folded,
            "pursuit_ids": [item["pursuit_id"] for item in items],
            # The own items by type, for the templates.
            "deadlines": [item for item in items if item["type"] == "deadline"],
            "micro_tasks": [item for item in items if item["type"] == "micro_task"],
            "check_ins": [item for item in items if item["type"] == "check_in"],
            "plan_url": notices.game_plan_url(),
        }
        rows += notify(
            user=user,
            kind=kind,
            context=context,
            channels=list(channels),
            dedupe_key=key,
            related=[{"type": "coaching.pursuit", "id": pk} for pk in pursuit_ids],
        )
    return rows
