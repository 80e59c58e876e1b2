"""Write use-cases of calendar feeds: issue and revoke a person's private feed address.

Rules:
- a person has at most one active feed address at a time (a partial unique constraint); asking
  for it returns the active one, or issues a new one when there is none; two requests at once
  end with the same address;
- the address carries an unguessable token (256 bits from `secrets`), and it is the only key to
  the feed, so revoking it ends the address for good; the next request issues a new one.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction

from core import clock
from core.audit import audit_record
from scheduling.models import CalendarFeed

TOKEN_BYTES = 32


def active_feed(user: Any) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user_id=user.pk, revoked_at__isnull=True).first()


def calendar_feed_get_or_create(user: Any) -> CalendarFeed:
    """The user's active feed, or a new one. Concurrent calls agree: the loser of the insert
    race (the partial unique constraint refuses a second active feed) reads the winner's row."""
    feed = active_feed(user)
    if feed is not None:
        return feed
    try:
        with transaction.atomic():
            feed = CalendarFeed.objects.create(user_id=user.pk, token=secrets.token_urlsafe(TOKEN_BYTES))
            audit_record(actor=user, action="calendar_feed.issued", target=feed)
            return feed
    except IntegrityError:
        feed = active_feed(user)
        if feed is None:  # the winner revoked it in between: issue again
            return calendar_feed_get_or_create(user)
        return feed


@transaction.atomic
def calendar_feed_revoke(user: Any, *, actor: Any = None) -> CalendarFeed | None:
    """End the user's active feed address (calendar apps subscribed to it stop updating).
    Returns the revoked feed, or None when there was no active one."""
    feed = CalendarFeed.objects.select_for_update().filter(user_id=user.pk, revoked_at__isnull=True).first()
    if feed is None:
        return None
    feed.revoked_at = clock.now()
    feed.save(update_fields=["revoked_at", "updated_at"])
    audit_record(actor=actor or user, action="calendar_feed.revoked", target=feed)
    return feed
