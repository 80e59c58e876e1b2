"""The notifications the application flow sends (kinds registered in applications/apps.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from applications.models import Application
from notifications.services import notify

SUBMITTED = "application_submitted"
INFO_REQUESTED = "application_info_requested"
DECISION = {
    "accepted": "application_accepted",
    "waitlisted": "application_waitlisted",
    "rejected": "application_rejected",
}
WAITLIST_OFFER = "application_waitlist_offer"
REVIEW_ASSIGNED = "review_assigned"
REVIEW_OVERDUE = "review_overdue"
REVIEW_ESCALATED = "review_escalated"


def my_applications_url() -> str:
    return settings.SITE_URL + reverse("my-applications")


def notify_applicant(application: Application, kind: str, dedupe_key: str, **context: Any) -> None:
    notify(
        user=application.applicant,
        kind=kind,
        context={
            "program_name": application.program.name,
            "applications_url": my_applications_url(),
            **context,
        },
        dedupe_key=dedupe_key,
        related=[application],
    )
