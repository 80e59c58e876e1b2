"""Read use-cases of mentorship: lists for the API, pages and admin (constant query counts)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from mentorship.enums import MatchStatus
from mentorship.models import Match, Profile


def pair_people(program, pair_id) -> list | None:
    """Slot matching's pair resolver: the mentor and mentee of an active match of the program."""
    try:
        match = Match.objects.select_related("mentor", "mentee").get(
            pk=pair_id, program_id=program.pk, status=MatchStatus.ACTIVE
        )
    except (Match.DoesNotExist, ValueError, TypeError):
        return None
    except Exception:  # noqa: BLE001 - a malformed id is "not a pair we know"
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
