"""Demo coach data: the demo writer tracks two outside opportunities next to their applications on
the platform (whose pursuits the coach keeps in step by itself), so "My game plan" ranks a real
mix. Idempotent: a pursuit with the same title is left as it is. Deadlines are relative to the day
the demo is loaded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model

from coaching.models import Pursuit
from coaching.services import pursuit_create_external
from core import clock

EXTERNAL = [
    {
        "title": "Screenwriters' Lab Fellowship",
        "url": "https://example.org/fellowship",
        "days": 10,
        "award_amount": "5000.00",
        "award_currency": "EUR",
        "application_type": "essay",
        "trust_score": 0.7,
    },
    {
        "title": "Baltic Writers' Residency",
        "url": "https://example.org/residency",
        "days": 40,
        "award_amount": "1500.00",
        "award_currency": "EUR",
        "application_type": "form",
        "trust_score": 0.5,
    },
]


def seed_coach(say: Callable[[str], None]) -> None:
    writer = get_user_model().objects.filter(email="writer@demo.local").first()
    if writer is None:
        return
    now = clock.now()
    for spec in EXTERNAL:
        if Pursuit.objects.filter(user=writer, title=spec["title"]).exists():
            continue
        data = {k: v for k, v in spec.items() if k != "days"}
        pursuit_create_external(user=writer, data={**data, "deadline": now + timedelta(days=spec["days"])})
        say(f"pursuit {spec['title']} for writer@demo.local")
