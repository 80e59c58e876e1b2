"""Application forms, tracks and scoring rubrics: each change is a new version."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from applications.definitions import normalise_criteria, normalise_fields, normalise_tracks
from applications.models import ApplicationForm, ScoringRubric
from core.audit import audit_record
from core.errors import ValidationFailed
from programs.models import Program, ProgramTrack


def _sync_tracks(program: Program, tracks: list[dict]) -> None:
    """Tracks named in the definition exist and are active; others are deactivated (kept for
    the applications that chose them)."""
    keys = []
    for position, track in enumerate(tracks):
        keys.append(track["key"])
        ProgramTrack.objects.update_or_create(
            program=program,
            key=track["key"],
            defaults={
                "name": track["name"],
                "description": track["description"],
                "position": position,
                "active": True,
            },
        )
    ProgramTrack.objects.filter(program=program).exclude(key__in=keys).update(active=False)


@transaction.atomic
def application_form_publish(
    *, program: Program, fields: Any, tracks: Any = None, actor: Any = None
) -> ApplicationForm:
    """Store a new version of the program's form (and, when given, its tracks). Applications
    already submitted keep the version they answered."""
    program = Program.objects.select_for_update().get(pk=program.pk)
    clean_fields, errors = normalise_fields(fields)
    clean_tracks, track_errors = normalise_tracks(tracks)
    errors.update(track_errors)
    if errors:
        raise ValidationFailed("The application form is invalid.", errors=errors)
    if tracks is not None:
        _sync_tracks(program, clean_tracks)
    version = (ApplicationForm.objects.filter(program=program).aggregate(v=Max("version"))["v"] or 0) + 1
    form = ApplicationForm.objects.create(
        program=program,
        version=version,
        fields=clean_fields,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action="application_form.published",
        target=program,
        changes={"version": version, "fields": [f["key"] for f in clean_fields]},
    )
    return form


@transaction.atomic
def scoring_rubric_publish(*, program: Program, criteria: Any, actor: Any = None) -> ScoringRubric:
    """Store a new version of the program's rubric; reviews keep the version they used."""
    program = Program.objects.select_for_update().get(pk=program.pk)
    track_keys = set(ProgramTrack.objects.filter(program=program).values_list("key", flat=True))
    clean, errors = normalise_criteria(criteria, track_keys)
    if errors:
        raise ValidationFailed("The scoring rubric is invalid.", errors=errors)
    version = (ScoringRubric.objects.filter(program=program).aggregate(v=Max("version"))["v"] or 0) + 1
    rubric = ScoringRubric.objects.create(
        program=program,
        version=version,
        criteria=clean,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action="scoring_rubric.published",
        target=program,
        changes={"version": version, "criteria": [c["key"] for c in clean]},
    )
    return rubric
