"""Read use-cases of enrollments, including the integrity report (source 002's checks)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from core import clock
from enrollments.enums import HOLDS_A_PLACE
from enrollments.journey import JOURNEY_ROW_FIELDS, enrollment_flags, journey_flags_from_rows
from enrollments.models import Enrollment, JourneyFlags
from programs.models import Campaign, Program
from templates_app.models import ProgramTemplate

PROBLEMS_LISTED_PER_CHECK = 100


def enrollment_list() -> QuerySet[Enrollment]:
    return Enrollment.objects.select_related("program").order_by("-enrolled_at", "id")


def enrollments_of_user(user) -> QuerySet[Enrollment]:
    return enrollment_list().filter(user=user)


def campaign_capacity(campaign: Campaign) -> dict[str, Any]:
    taken = Enrollment.objects.filter(campaign=campaign, status__in=HOLDS_A_PLACE).count()
    return {
        "campaign_id": campaign.id,
        "target_enrollment": campaign.target_enrollment,
        "max_enrollment": campaign.max_enrollment,
        "enrolled": taken,
        "available": max(campaign.max_enrollment - taken, 0),
    }


# --- Integrity ----------------------------------------------------------------------------------


def enrollments_with_dual_write_mismatch() -> QuerySet[Enrollment]:
    return Enrollment.objects.select_related("program").filter(
        ~Q(program_type=F("program__program_type")) | ~Q(beneficiary_group_id=F("program__beneficiary_group_id"))
    )


def programs_with_type_mismatch() -> QuerySet[Program]:
    return Program.objects.select_related("template").filter(~Q(program_type=F("template__category")))


def enrollments_with_foreign_campaign() -> QuerySet[Enrollment]:
    """Orphaned references: the enrollment's campaign deploys another program."""
    return Enrollment.objects.filter(campaign__isnull=False).exclude(campaign__program_id=F("program_id"))


def enrollments_with_unknown_role() -> QuerySet[Enrollment]:
    """Enrollments whose role is not (any longer) a role of their program's template."""
    pairs = list(Enrollment.objects.values_list("program__template_id", "role").distinct().order_by())
    roles_by_template = {
        t.id: set(t.role_names)
        for t in ProgramTemplate.objects.filter(id__in={template_id for template_id, _ in pairs})
    }
    bad = Q(pk__in=[])
    for template_id, role in pairs:
        if role not in roles_by_template.get(template_id, set()):
            bad |= Q(program__template_id=template_id, role=role)
    return Enrollment.objects.filter(bad)


def campaigns_over_capacity() -> QuerySet[Campaign]:
    return Campaign.objects.annotate(
        taken=Count("enrollments", filter=Q(enrollments__status__in=HOLDS_A_PLACE))
    ).filter(taken__gt=F("max_enrollment"))


def users_with_stale_journey_flags() -> list:
    """Users whose stored flags differ from the ones derived from their enrollments now: users
    with enrollments, and users with a stored record but no enrollments (two queries, whatever
    the number of users)."""
    stored = {
        user_id: enrollment_flags(flags) for user_id, flags in JourneyFlags.objects.values_list("user_id", "flags")
    }
    rows = Enrollment.objects.order_by("user_id", "enrolled_at", "id").values_list("user_id", *JOURNEY_ROW_FIELDS)
    stale = []
    for user_id, user_rows in groupby(rows.iterator(chunk_size=2000), key=lambda row: row[0]):
        if stored.pop(user_id, None) != journey_flags_from_rows(row[1:] for row in user_rows):
            stale.append(user_id)
    no_enrollments = journey_flags_from_rows([])
    stale.extend(user_id for user_id, flags in stored.items() if flags != no_enrollments)
    return stale


def integrity_report() -> dict[str, Any]:
    """Every integrity check with its count and (up to 100 of) its offending rows."""
    checks: list[tuple[str, str, bool, list[dict[str, Any]], int]] = []

    def add(name: str, description: str, fixable: bool, qs, describe) -> None:
        count = qs.count()
        rows = [describe(obj) for obj in qs[:PROBLEMS_LISTED_PER_CHECK]] if count else []
        checks.append((name, description, fixable, rows, count))

    add(
        "enrollment_dual_write",
        "Enrollment program_type or beneficiary group differs from its program's.",
        True,
        enrollments_with_dual_write_mismatch().order_by("id"),
        lambda e: {
            "enrollment_id": str(e.id),
            "program_id": str(e.program_id),
            "detail": f"enrollment has {e.program_type}/{e.beneficiary_group_id}, program has "
            f"{e.program.program_type}/{e.program.beneficiary_group_id}",
        },
    )
    add(
        "program_type_mismatch",
        "Program program_type differs from its template's category.",
        True,
        programs_with_type_mismatch().order_by("id"),
        lambda p: {
            "program_id": str(p.id),
            "detail": f"program has {p.program_type}, template has {p.template.category}",
        },
    )
    add(
        "orphaned_campaign_reference",
        "Enrollment points at a campaign of another program.",
        False,
        enrollments_with_foreign_campaign().order_by("id"),
        lambda e: {
            "enrollment_id": str(e.id),
            "campaign_id": str(e.campaign_id),
            "detail": "campaign deploys another program",
        },
    )
    add(
        "role_not_in_template",
        "Enrollment role is not a role of the program's template.",
        False,
        enrollments_with_unknown_role().order_by("id"),
        lambda e: {"enrollment_id": str(e.id), "program_id": str(e.program_id), "detail": f"role '{e.role}'"},
    )
    add(
        "campaign_over_capacity",
        "Campaign holds more enrollments than its max_enrollment.",
        False,
        campaigns_over_capacity().order_by("id"),
        lambda c: {"campaign_id": str(c.id), "detail": f"{c.taken} enrollments, max {c.max_enrollment}"},
    )
    stale = users_with_stale_journey_flags()
    checks.append(
        (
            "journey_flags_stale",
            "Stored journey flags differ from the user's enrollments.",
            True,
            [{"user_id": str(uid), "detail": "flags out of date"} for uid in stale[:PROBLEMS_LISTED_PER_CHECK]],
            len(stale),
        )
    )
    total = sum(count for *_, count in checks)
    return {
        "ok": total == 0,
        "checked_at": clock.now(),
        "problem_count": total,
        "checks": [
            {"name": name, "description": description, "fixable": fixable, "count": count, "problems": rows}
            for name, description, fixable, rows, count in checks
        ],
    }
