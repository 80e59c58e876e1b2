"""Read use-cases of mentorship: lists for the API, pages and admin (constant query counts)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from mentorship.enums import MatchStatus
from mentorship.models import Match, Profile


def pair_people(program, pair_id) -> list | None:
    """Slot matching's pair resolver: the mentor and mentee of an active match of the program."""
    try:
        pair_id = uuid.UUID(str(pair_id))
    except ValueError:  # a malformed id is "not a pair we know"
        return None
    match = (
        Match.objects.select_related("mentor", "mentee")
        .filter(pk=pair_id, program_id=program.pk, status=MatchStatus.ACTIVE)
        .first()
    )
    if match is None:
        return None
    return [match.mentor, match.mentee]


def matches_for_program(program_id: Any) -> QuerySet[Match]:
    return Match.objects.filter(program_id=program_id).select_related("mentor", "mentee", "batch")


def matches_of_user(user: Any) -> QuerySet[Match]:
    return (
        Match.objects.filter(Q(mentor=user) | Q(mentee=user))
        .exclude(status=MatchStatus.WITHDRAWN)
        .select_related("program", "mentor", "mentee")
        .order_by("-created_at")
    )


def profiles_for_program(program_id: Any) -> QuerySet[Profile]:
    return Profile.objects.filter(program_id=program_id).select_related("user", "program")
