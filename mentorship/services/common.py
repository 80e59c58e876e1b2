"""Helpers the mentorship services share: program roles per side and the matching config."""

from __future__ import annotations

from typing import Any

from core.errors import NotFound, ValidationFailed
from mentorship.enums import ProfileKind, SelfAccept
from programs.models import Program

DEFAULT_CHECKIN_INTERVAL_DAYS = 7


def program_get(program_id: Any) -> Program:
    program = Program.objects.select_related("template").filter(pk=program_id).first()
    if program is None:
        raise NotFound(f"No program with the id {program_id}.")
    return program


def side_roles(program: Program) -> dict[str, str]:
    """The enrollment role of each side in this program: the volunteer role gives (mentor, buddy,
    tutor), the beneficiary role receives (mentee, participant, learner)."""
    roles = [r for r in (program.template.roles or []) if isinstance(r, dict) and r.get("role")]
    mentor = next((r["role"] for r in roles if r.get("platform_role") == "volunteer"), None)
    mentee = next((r["role"] for r in roles if r.get("platform_role") == "beneficiary"), None)
    names = [r["role"] for r in roles]
    mentor = mentor or (names[1] if len(names) > 1 else ProfileKind.MENTOR)
    mentee = mentee or (names[0] if names else ProfileKind.MENTEE)
    return {ProfileKind.MENTOR: mentor, ProfileKind.MENTEE: mentee}


def matching_config(program: Program) -> dict[str, Any]:
    return dict((program.config or {}).get("matching") or {})


def supports_matching(program: Program) -> bool:
    return bool(program.template.supports_matching)


def require_matching(program: Program) -> None:
    if not supports_matching(program):
        raise ValidationFailed(
            f"'{program.name}' is a {program.program_type} program; its template does not support matching.",
            errors={"program_id": "This program's template does not support matching."},
        )


def max_capacity(program: Program) -> int:
    return int(matching_config(program).get("max_mentees_per_mentor") or 50)


def self_accept(program: Program) -> str:
    value = matching_config(program).get("self_accept") or SelfAccept.NONE
    return value if value in SelfAccept.values else SelfAccept.NONE


def checkin_interval_days(config: dict | None) -> int:
    """Days without a check-in before one is due: a program config's `checkins.interval_days`."""
    return int(((config or {}).get("checkins") or {}).get("interval_days") or DEFAULT_CHECKIN_INTERVAL_DAYS)
