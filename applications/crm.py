"""What the CRM receives for a program's applications (registered with crm_sync)."""

from __future__ import annotations

import uuid
from typing import Any

from applications.models import Application


def crm_applications(program_id: Any, entity_ids: list[str] | None) -> dict[str, dict]:
    # Drafts are the applicant's private work in progress; the CRM hears of submitted applications.
    applications = (
        Application.objects.filter(program_id=program_id).exclude(status="draft").select_related("applicant", "track")
    )
    if entity_ids is not None:
        valid = []
        for value in entity_ids:
            try:
                valid.append(uuid.UUID(value))
            except ValueError:
                continue
        applications = applications.filter(pk__in=valid)
    return {
        str(a.pk): {
            "application_id": str(a.pk),
            "program_id": str(a.program_id),
            "applicant_id": str(a.applicant_id),
            "email": a.applicant.email,
            "full_name": a.applicant.full_name,
            "track": a.track.key if a.track_id else None,
            "status": a.status,
            "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
            "decided_at": a.decided_at.isoformat() if a.decided_at else None,
            "decision_reason": a.decision_reason,
            "review_count": a.review_count,
            "mean_score": str(a.mean_score) if a.mean_score is not None else None,
            "corrected_score": str(a.corrected_score) if a.corrected_score is not None else None,
        }
        for a in applications.order_by("created_at", "id")
    }
