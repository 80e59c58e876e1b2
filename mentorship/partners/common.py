"""What the batch import and the inbound handlers share besides records: which program a partner
record goes to, the lock that keeps a batch import and event processing from writing the same
partner rows at once, and the mapping of a person's side to their enrollment role."""

from __future__ import annotations

from typing import Any

from django.db import connection

from core.errors import Conflict, NotFound, ValidationFailed
from mentorship.enums import ProfileKind
from mentorship.services.common import side_roles, supports_matching
from programs.enums import ProgramStatus
from programs.models import Program
from templates_app.enums import TemplateCategory

IMPORT_ACTOR = "partner:{source}"
JOINED_REASON = "Joined on {partner}."
PARTNER_NAMES = {"buddy": "Buddy", "kintell": "Kintell"}


def actor_for(source: str) -> str:
    """The actor partner writes are recorded under (events: `partner:buddy`)."""
    return IMPORT_ACTOR.format(source=source)


def resolve_program(program_key: str | None, *, category: str = TemplateCategory.BUDDY) -> Program:
    """The program a partner record goes to: the one named by its key (active, with matching),
    else the single active program of the category."""
    programs = Program.objects.select_related("template")
    if program_key:
        program = programs.filter(program_key=program_key).first()
        if program is None:
            raise NotFound(f"No program with the key '{program_key}'.")
        if program.status != ProgramStatus.ACTIVE:
            raise Conflict(f"The program '{program_key}' is {program.status}; partner records go into active programs.")
        if not supports_matching(program):
            raise ValidationFailed(
                f"The program '{program_key}' is a {program.program_type} program without matching.",
                errors={"program": "Its template does not support matching."},
            )
        return program
    found = list(programs.filter(program_type=category, status=ProgramStatus.ACTIVE).order_by("program_key")[:3])
    if not found:
        raise NotFound(f"No active {category} program; create one or name it with --program KEY / program_key.")
    if len(found) > 1:
        keys = ", ".join(p.program_key for p in found)
        raise Conflict(f"Several active {category} programs ({keys}); name one with --program KEY / program_key.")
    return found[0]


def partner_lock(source: str) -> None:
    """Serialise writers of one partner's rows (a batch chunk, an inbound event) until the
    transaction ends: they create the same people, matches and records by external id."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"mentorship.partners:{source}"])


def role_of(program: Program, kind: str) -> str:
    return side_roles(program)[kind]


def other_kind(kind: str) -> str:
    return ProfileKind.MENTEE if kind == ProfileKind.MENTOR else ProfileKind.MENTOR


def label(value: Any) -> str:
    """A time as the report shows it."""
    return value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else str(value)
