"""Where the platform keeps personal data: one declarative table for every app.

Each `Entry` names a model, the lookups that find a person's rows in it (`owners`: the foreign
keys that name the person as the row's subject or author), the fields holding personal data and
what erasure does with them: replace values (`erase`), delete the rows (`delete`), or rewrite the
person's e-mail address and name where a JSON or text column mentions them (`mentions`).

Links that name the person only as the staff member who acted on someone else's row (`recorded_by`,
`decided_by`, `created_by`, ...) are listed in `ACTING_LINKS`: those rows belong to the other person or
to the program; the link stays (it is an id) and the account row it points at is anonymised.
`tests/privacy/test_registry.py` walks every model and fails when a link to the user table is in
neither list, so a new table cannot be forgotten.

Nothing that aggregates count is erased: rows are kept (statuses, times, amounts, scores, ratings,
durations and the links between them), only free text, contact data and credentials go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

ERASED_LABEL = "erased user"
ERASED_TITLE = "(erased)"


def erased_email(user_id: Any) -> str:
    """The address an erased account gets: unique, stable (erasing twice gives the same address)
    and undeliverable (`.invalid` is reserved, RFC 2606)."""
    return f"erased-{user_id}@invalid"


@dataclass(frozen=True)
class Entry:
    model: str  # "app_label.ModelName"
    owners: tuple[str, ...] = ()  # lookups equal to the person (or their pk)
    personal: tuple[str, ...] = ()  # fields with personal data (for the handbook and the tests)
    erase: Mapping[str, Any] = field(default_factory=dict)  # field -> anonymised value
    erase_where: Q | None = None  # erase only the rows that also match
    delete: bool = False  # rows removed on erasure (credentials, caches, contact details)
    mentions: tuple[str, ...] = ()  # JSON/text columns searched for the e-mail and rewritten
    export_mentions: bool = True  # False: rows that only mention the person are another's record
    extra: Callable[[Any], Q] | None = None  # more rows of the person, by something else than a key
    note: str = ""

    def person_filter(self, user: Any) -> Q:
        query = Q(pk__in=[])
        for lookup in self.owners:
            query |= Q(**{lookup: user.pk})
        if self.extra is not None:
            query |= self.extra(user)
        return query


REGISTRY: tuple[Entry, ...] = (
    # --- accounts ---------------------------------------------------------------------------
    Entry(
        "accounts.User",
        owners=("pk",),
        personal=("email", "full_name", "timezone", "password", "last_login"),
        # The row stays (every foreign key points at it); the services also make the password
        # unusable and remove roles and permissions.
        erase={"full_name": "", "timezone": "", "is_active": False, "is_staff": False},
        note="The account: kept as an anonymous row so counts and links hold.",
    ),
    Entry(
        "accounts.CompanyMembership",
        owners=("user",),
        note="Which organisations the person belongs to: kept (company reports count members).",
    ),
    Entry(
        "accounts.ExternalIdentity",
        owners=("user",),
        personal=("external_id", "metadata"),
        delete=True,
        note="The person's ids in partner systems: deleted.",
    ),
    Entry(
        "accounts.ApiToken",
        owners=("user",),
        personal=("name",),
        delete=True,
        note="API tokens (only hashes are stored): deleted, so none can sign in again.",
    ),
    Entry(
        "admin.LogEntry",
        mentions=("object_repr", "change_message"),
        export_mentions=False,
        note="The admin's change log: entries naming the person's e-mail are rewritten.",
    ),
    # --- core -------------------------------------------------------------------------------
    Entry(
        "core.AuditEntry",
        owners=("actor",),
        personal=("actor_label",),
        erase={"actor_label": ERASED_LABEL},
        mentions=("target_repr", "changes", "reason"),
        note="Decisions the person made (the action stays, the label becomes 'erased user'), and "
        "entries whose target or changes name the person's e-mail (rewritten).",
    ),
    Entry(
        "core.IdempotencyRecord",
        extra=lambda user: Q(scope=str(user.pk)),
        personal=("response_body",),
        delete=True,
        note="Stored replies of the person's creating requests: deleted (a cache).",
    ),
    Entry(
        "core.JobRun",
        owners=("triggered_by",),
        note="Jobs the person started: kept (no personal data beyond the link).",
    ),
    # --- notifications ----------------------------------------------------------------------
    Entry(
        "notifications.Notification",
        owners=("user",),
        personal=("subject", "body_text", "body_html", "dashboard_text", "context"),
        erase={"subject": "", "body_text": "", "body_html": "", "dashboard_text": "", "context": {}},
        note="What was sent to the person: texts cleared, the log row (kind, channel, status) kept.",
    ),
    Entry(
        "notifications.NotificationPreference",
        owners=("user",),
        note="Opt-outs and quiet hours: kept (no free text).",
    ),
    # --- crm_sync ---------------------------------------------------------------------------
    Entry(
        "crm_sync.OutboxEvent",
        extra=lambda user: Q(subject_id=str(user.pk)) | Q(actor=f"user:{user.pk}"),
        personal=("payload",),
        mentions=("payload",),
        note="Events about or by the person (and any whose payload names the e-mail): the e-mail "
        "and name in payloads are rewritten; ids stay.",
    ),
    Entry(
        "crm_sync.InboundEvent",
        personal=("envelope", "raw_body"),
        mentions=("envelope", "raw_body"),
        note="Partner events naming the person's e-mail: rewritten the same way.",
    ),
    Entry(
        "crm_sync.CrmSyncItem",
        owners=("requested_by",),
        note="CRM syncs the person queued as an operator: kept.",
    ),
    # --- enrollments ------------------------------------------------------------------------
    Entry(
        "enrollments.Enrollment",
        owners=("user",),
        personal=("reason",),
        erase={"reason": ""},
        note="Program participation: kept (every rate counts it); the status reason is cleared.",
    ),
    Entry(
        "enrollments.JourneyFlags",
        owners=("user",),
        note="Cross-program counters: kept (derived, no free text).",
    ),
    Entry(
        "enrollments.Outcome",
        owners=("enrollment__user",),
        personal=("notes", "evidence_url"),
        erase={"notes": "", "evidence_url": ""},
        note="Outcomes: type, date and amount kept (SROI counts them); notes and evidence cleared.",
    ),
    # --- scheduling -------------------------------------------------------------------------
    Entry(
        "scheduling.AvailabilityWindow",
        owners=("owner",),
        personal=("starts_at", "ends_at", "weekday", "start_time", "end_time", "timezone"),
        delete=True,
        note="When the person can meet: deleted.",
    ),
    Entry(
        "scheduling.Session",
        owners=("host",),
        note="Sessions the person hosted: kept (the program's; hosted hours count in VIS).",
    ),
    Entry(
        "scheduling.Registration",
        owners=("user",),
        note="Session places: kept (attendance and waitlist figures count them).",
    ),
    Entry(
        "scheduling.Attendance",
        owners=("user",),
        note="Attendance: kept (attendance rate, VIS, SROI).",
    ),
    Entry("scheduling.SessionReminder", owners=("user",), note="Reminders sent: kept (no free text)."),
    Entry(
        "scheduling.HostConfirmation",
        owners=("host",),
        personal=("reason",),
        erase={"reason": ""},
        note="Host confirmations: the stated reason is cleared.",
    ),
    Entry(
        "scheduling.CalendarFeed",
        owners=("user",),
        personal=("token",),
        delete=True,
        note="Private calendar addresses: deleted (the address stops working).",
    ),
    # --- applications -----------------------------------------------------------------------
    Entry(
        "applications.Application",
        owners=("applicant",),
        personal=(
            "answers",
            "decision_reason",
            "info_request",
            "pending_reason",
            "excluded_reviewer_emails",
        ),
        erase={
            "answers": {},
            "decision_reason": "",
            "info_request": "",
            "pending_reason": "",
            "excluded_reviewer_emails": [],
        },
        mentions=("excluded_reviewer_emails",),
        export_mentions=False,
        note="Applications: status, times and scores kept (funnel, review figures); answers and "
        "the texts about them cleared. Other applicants' lists of reviewers to avoid keep "
        "pointing at the person through the new address.",
    ),
    Entry(
        "applications.ProgramReviewer",
        owners=("reviewer",),
        note="Reviewer team places: kept.",
    ),
    Entry(
        "applications.ReviewAssignment",
        owners=("reviewer",),
        personal=("conflict_reason",),
        erase={"conflict_reason": ""},
        note="Reviews assigned to the person: kept (review SLA figures); the conflict reason is cleared.",
    ),
    Entry(
        "applications.ConflictOfInterest",
        owners=("reviewer", "applicant"),
        personal=("reason",),
        erase={"reason": ""},
        note="Declared conflicts: kept (they still bar the pairing); the reason is cleared.",
    ),
    Entry(
        "applications.Review",
        owners=("reviewer",),
        note="Reviews the person wrote: kept with their comments (they are part of another "
        "person's decision record; corrected scores depend on them).",
    ),
    # --- mentorship -------------------------------------------------------------------------
    Entry(
        "mentorship.Profile",
        owners=("user",),
        personal=("bio", "goals", "preferences", "avoid_user_ids"),
        erase={"bio": "", "goals": [], "preferences": {}, "avoid_user_ids": []},
        note="Mentor/mentee profiles: kind and capacity kept (VIS counts mentors); bio, goals and preferences cleared.",
    ),
    Entry(
        "mentorship.Match",
        owners=("mentor", "mentee"),
        personal=("reason",),
        erase={"reason": ""},
        note="Matches: kept (match figures, VIS lift); the operator's reason is cleared.",
    ),
    Entry(
        "mentorship.CheckIn",
        owners=("by",),
        personal=("notes",),
        erase={"notes": ""},
        note="Check-ins: mood and time kept; notes cleared.",
    ),
    Entry(
        "mentorship.Feedback",
        owners=("author",),
        personal=("comment",),
        erase={"comment": ""},
        note="Feedback: rating kept (quality factor of VIS); comment cleared.",
    ),
    Entry(
        "mentorship.Milestone",
        owners=("user",),
        personal=("title",),
        erase={"title": ""},
        note="Milestones: key and time kept (SROI, lift); title cleared.",
    ),
    Entry(
        "mentorship.Activity",
        owners=("user",),
        personal=("title",),
        erase={"title": ""},
        note="Activities: kind and minutes kept (VIS); title cleared.",
    ),
    # --- coaching ---------------------------------------------------------------------------
    Entry(
        "coaching.Pursuit",
        owners=("user",),
        personal=("title", "url"),
        erase={"title": ERASED_TITLE, "url": ""},
        erase_where=Q(application__isnull=True),
        note="Pursuits: external ones (the person's own opportunities) lose title and address; "
        "internal ones follow an application and carry the program's name.",
    ),
    Entry("coaching.CheckInTask", owners=("user",), note="Coach check-in tasks: kept (no free text)."),
    Entry("coaching.CoachSettings", owners=("user",), note="The snooze: kept."),
)

# Links to the user table that name the person as the staff member acting on another person's row
# or on the program's: the link stays, the account it points at is anonymised.
ACTING_LINKS: frozenset[str] = frozenset(
    {
        "admin.LogEntry.user",
        "accounts.Company.members",  # the same rows as accounts.CompanyMembership
        "enrollments.Outcome.recorded_by",
        "scheduling.Attendance.recorded_by",
        "applications.ApplicationForm.created_by",
        "applications.ScoringRubric.created_by",
        "applications.Application.pending_by",
        "applications.Application.excluded_reviewers",  # the applicant's choice of whom to avoid
        "applications.ReviewAssignment.assigned_by",
        "mentorship.ProposalBatch.created_by",
        "mentorship.Match.decided_by",
    }
)


def entries() -> tuple[Entry, ...]:
    return REGISTRY
