"""The batch import of a partner export (`import_partner_export`): the shipped sample imported with
source 001's enrollment rules, a reconciliation report, idempotence, dry runs, bad rows rejected
alone (with the rows that depend on them), corrections reported as updates, program resolution,
JSON files, whole-file errors, people linked by e-mail, and a constant number of queries per
chunk."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import ExternalIdentity, User
from core.models import AuditEntry
from crm_sync.models import OutboxEvent
from enrollments.journey import journey_flags_compute
from enrollments.models import Enrollment, JourneyFlags
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone, Profile
from mentorship.partners.batch import partner_import
from mentorship.partners.sample import SMALL, generate, scaled, write_export
from mentorship.partners.settle import journey_flags_many
from notifications.models import Notification

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "buddy"
KINDS = ("users", "matches", "events", "checkins", "feedback", "milestones")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def run_import(path=SAMPLE, *args: str) -> dict:
    out = io.StringIO()
    call_command("import_partner_export", "--source", "buddy", str(path), "--json", "--no-progress", *args, stdout=out)
    return json.loads(out.getvalue())


def counts(report: dict) -> dict[str, tuple[int, int, int, int]]:
    return {k: (c["created"], c["updated"], c["unchanged"], c["rejected"]) for k, c in report["counts"].items()}


def snapshot() -> dict:
    """The partner rows of the database, keyed by external ids (no generated ids, no times of
    writing), so two ways of importing one history can be compared."""
    ext = dict(ExternalIdentity.objects.filter(provider="buddy").values_list("user_id", "external_id"))
    match_ext = dict(Match.objects.values_list("id", "external_id"))

    def who(user_id):
        return ext.get(user_id) or User.objects.get(pk=user_id).email

    return {
        "users": {
            ext[u.pk]: (u.email, u.full_name, u.timezone, u.is_active, u.is_staff)
            for u in User.objects.filter(pk__in=list(ext))
        },
        "profiles": sorted(
            (who(p.user_id), p.program.program_key, p.kind, p.capacity, p.languages, p.timezone, p.active, p.skills)
            for p in Profile.objects.select_related("program")
        ),
        "enrollments": sorted(
            (
                who(e.user_id),
                e.program.program_key,
                e.role,
                e.status,
                e.enrolled_at,
                e.completed_at,
                e.dropped_at,
                e.source_system,
                e.reason,
                e.program_type,
                e.campaign_id,
            )
            for e in Enrollment.objects.select_related("program")
        ),
        "matches": {
            m.external_id: (
                m.program.program_key,
                who(m.mentor_id),
                who(m.mentee_id),
                m.status,
                m.source,
                m.end_reason,
                m.started_at,
                m.ended_at,
                m.reason,
                m.score,
                m.decided_by_id,
            )
            for m in Match.objects.select_related("program")
        },
        "checkins": {
            c.external_id: (match_ext[c.match_id], who(c.by_id), c.mood, c.notes, c.at, c.source)
            for c in CheckIn.objects.all()
        },
        "feedback": {
            f.external_id: (match_ext[f.match_id], who(f.author_id), f.rating, f.comment, f.at, f.source)
            for f in Feedback.objects.all()
        },
        "milestones": {
            m.external_id: (who(m.user_id), m.program.program_key, m.key, m.title, m.reached_at, m.source)
            for m in Milestone.objects.select_related("program")
        },
        "activities": sorted(
            (
                a.source,
                a.external_id,
                who(a.user_id),
                a.program.program_key,
                a.kind,
                a.title,
                a.occurred_at,
                a.duration_minutes,
                match_ext.get(a.match_id),
            )
            for a in Activity.objects.select_related("program")
        ),
        "flags": {who(j.user_id): j.flags for j in JourneyFlags.objects.filter(user_id__in=list(ext))},
    }


def enrollment_states() -> dict[str, tuple]:
    ext = dict(ExternalIdentity.objects.filter(provider="buddy").values_list("user_id", "external_id"))
    return {
        ext[e.user_id]: (e.role, e.status, e.completed_at, e.dropped_at, e.enrolled_at)
        for e in Enrollment.objects.filter(user_id__in=list(ext))
    }


def copy_sample(tmp_path: Path) -> Path:
    target = tmp_path / "export"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("*.md"))
    return target


def append_rows(path: Path, *rows: dict) -> None:
    with path.open(newline="") as handle:
        columns = next(csv.reader(handle))
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writerows(rows)


def rewrite(path: Path, key: str, value: str, **changes: str) -> None:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
        columns = list(rows[0])
    for row in rows:
        if row[key] == value:
            row.update(changes)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


EXPECTED_ENROLLMENTS = {
    # bm-0001 completed, then the same pair matched again (bm-0006, active): active again.
    "bu-0001": ("participant", "active", None, None, at("2025-01-13T14:00:00Z")),
    "bu-0002": ("buddy", "active", None, None, at("2025-02-07T17:00:00Z")),
    # bm-0002 ended participant_left (mentee_left): dropped at its end.
    "bu-0003": ("participant", "dropped", None, at("2025-08-01T17:00:00Z"), at("2025-02-16T10:00:00Z")),
    "bu-0006": ("buddy", "dropped", None, at("2025-08-01T17:00:00Z"), at("2025-02-01T17:00:00Z")),
    # bm-0003 active.
    "bu-0005": ("participant", "active", None, None, at("2025-03-04T17:00:00Z")),
    "bu-0010": ("buddy", "active", None, None, at("2025-02-14T10:00:00Z")),
    # bm-0004 completed: completed at its end.
    "bu-0007": ("participant", "completed", at("2025-08-12T23:00:00Z"), None, at("2025-02-28T16:00:00Z")),
    "bu-0004": ("buddy", "completed", at("2025-08-12T23:00:00Z"), None, at("2025-03-03T12:00:00Z")),
    # bm-0005 ended inactive (no_show): dropped.
    "bu-0009": ("participant", "dropped", None, at("2025-07-29T22:00:00Z"), at("2025-01-21T09:00:00Z")),
    "bu-0008": ("buddy", "dropped", None, at("2025-07-29T22:00:00Z"), at("2025-02-23T16:00:00Z")),
}


def test_the_shipped_sample_is_what_the_generator_makes(tmp_path):
    write_export(generate(SMALL), tmp_path)
    for kind in KINDS:
        assert (tmp_path / f"{kind}.csv").read_text() == (SAMPLE / f"{kind}.csv").read_text(), kind


def test_the_sample_imports_with_source_001_enrollment_rules(buddy_program):
    report = run_import()
    assert counts(report) == {
        "users": (10, 0, 0, 0),
        "matches": (6, 0, 0, 0),
        "events": (8, 0, 0, 0),
        "checkins": (10, 0, 0, 0),
        "feedback": (5, 0, 0, 0),
        "milestones": (6, 0, 0, 0),
    }
    assert report["total"] == {"created": 45, "updated": 0, "unchanged": 0, "rejected": 0}
    assert (report["program"], report["rejected"], report["people_settled"]) == ("buddy-2026", [], 10)

    assert enrollment_states() == EXPECTED_ENROLLMENTS
    assert set(Enrollment.objects.values_list("source_system", "program_id").distinct()) == {
        ("buddy", buddy_program.pk)
    }
    matches = {m.external_id: (m.status, m.end_reason, m.source) for m in Match.objects.all()}
    assert matches == {
        "bm-0001": ("ended", "completed", "buddy"),
        "bm-0002": ("ended", "mentee_left", "buddy"),
        "bm-0003": ("active", "", "buddy"),
        "bm-0004": ("ended", "completed", "buddy"),
        "bm-0005": ("ended", "no_show", "buddy"),
        "bm-0006": ("active", "", "buddy"),
    }
    olena = User.objects.get(external_identities__external_id="bu-0001")
    assert (olena.email, olena.full_name, olena.timezone) == (
        "olena.kovalenko@example.org",
        "Olena Kovalenko",
        "Europe/Berlin",
    )
    first = Match.objects.get(external_id="bm-0001")
    assert (first.mentee_id, first.mentor.email) == (olena.pk, "jonas.becker@example.org")
    assert (first.started_at, first.ended_at) == (at("2025-02-13T21:00:00Z"), at("2025-07-12T22:00:00Z"))
    profile = Profile.objects.get(user=olena)
    assert (profile.kind, profile.languages, profile.timezone, profile.capacity) == (
        "mentee",
        ["uk", "de"],
        "Europe/Berlin",
        1,
    )
    daria = Profile.objects.get(user__external_identities__external_id="bu-0005")
    assert (daria.kind, daria.languages, daria.timezone) == ("mentee", [], buddy_program.timezone)
    assert Activity.objects.filter(kind="event", source="buddy").count() == 8
    assert set(Activity.objects.values_list("match_id", flat=True)) == {None}
    checkin = CheckIn.objects.get(external_id="bc-0002")
    assert (checkin.mood, checkin.notes, checkin.at, checkin.by.email) == (
        3,
        "Met for coffee.",
        at("2025-04-23T09:34:41Z"),
        "lukas.wagner@example.org",
    )

    flags = JourneyFlags.objects.get(user=olena).flags
    assert {k: flags[k] for k in ("match_count", "match_active", "events_attended", "checkins_completed")} == {
        "match_count": 2,
        "match_active": True,
        "events_attended": 1,
        "checkins_completed": 2,
    }
    assert (flags["milestones_reached"], flags["feedback_pending"], flags["checkin_due"]) == (1, False, True)
    assert (flags["is_buddy_participant"], flags["buddy_joined_at"]) == (True, "2025-01-13")
    sofia = JourneyFlags.objects.get(user__external_identities__external_id="bu-0004").flags
    assert (sofia["is_buddy_buddy"], sofia["buddy_completed_at"], sofia["feedback_pending"]) == (
        False,
        "2025-08-12",
        True,
    )
    for user_id, computed in journey_flags_many(list(JourneyFlags.objects.values_list("user_id", flat=True))).items():
        assert computed == journey_flags_compute(user_id)

    # The CRM follows; nobody is notified.
    assert Notification.objects.count() == 0
    events = {}
    for event_type in OutboxEvent.objects.values_list("event_type", flat=True):
        events[event_type] = events.get(event_type, 0) + 1
    assert events == {
        "enrollment.created": 10,
        "enrollment.status_changed": 6,
        "mentorship.match.created": 6,
        "mentorship.match.ended": 4,
    }
    audit = AuditEntry.objects.get(action="partner_import.applied")
    assert (audit.target_id, audit.changes["created"], audit.actor_label) == (
        str(buddy_program.pk),
        45,
        "import_partner_export (buddy)",
    )


def test_importing_the_same_export_again_changes_nothing(buddy_program):
    run_import()
    before = snapshot()
    stamps = sorted(str(t) for t in Match.objects.values_list("updated_at", flat=True))
    outbox, audit = OutboxEvent.objects.count(), AuditEntry.objects.count()

    report = run_import()

    assert counts(report) == {
        "users": (0, 0, 10, 0),
        "matches": (0, 0, 6, 0),
        "events": (0, 0, 8, 0),
        "checkins": (0, 0, 10, 0),
        "feedback": (0, 0, 5, 0),
        "milestones": (0, 0, 6, 0),
    }
    assert report["people_settled"] == 0
    assert snapshot() == before
    assert sorted(str(t) for t in Match.objects.values_list("updated_at", flat=True)) == stamps
    assert (OutboxEvent.objects.count(), AuditEntry.objects.count()) == (outbox, audit + 1)


def test_a_dry_run_writes_nothing_and_reports_the_same(buddy_program):
    audit = AuditEntry.objects.count()
    dry = run_import(SAMPLE, "--dry-run")
    assert dry["dry_run"] is True
    assert (User.objects.count(), Match.objects.count(), OutboxEvent.objects.count()) == (0, 0, 0)
    assert (Enrollment.objects.count(), JourneyFlags.objects.count(), AuditEntry.objects.count()) == (0, 0, audit)
    real = run_import()
    assert (dry["counts"], dry["rejected"], dry["people_settled"]) == (
        real["counts"],
        real["rejected"],
        real["people_settled"],
    )


def test_the_text_report_names_counts_and_rejections(buddy_program, tmp_path):
    export = copy_sample(tmp_path)
    append_rows(
        export / "checkins.csv",
        {
            "checkin_id": "bc-0099",
            "match_id": "bm-0001",
            "by_external_id": "bu-0001",
            "mood": "9",
            "at": "2025-05-01T10:00:00Z",
        },
    )
    out = io.StringIO()
    call_command("import_partner_export", "--source", "buddy", str(export), "--no-progress", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"Reconciliation of the Buddy export {export} into buddy-2026"
    assert lines[1:10] == [
        "              created  updated  unchanged  rejected",
        "users              10        0          0         0",
        "matches             6        0          0         0",
        "events              8        0          0         0",
        "checkins           10        0          0         1",
        "feedback            5        0          0         0",
        "milestones          6        0          0         0",
        "total              45        0          0         1",
        "Rejected rows:",
    ]
    assert lines[10] == "  checkins.csv row 11: mood: A whole number from 1 to 5."
    assert lines[11].startswith("People settled (enrollment status, journey flags): 10. ")


def test_progress_lines_are_shown_per_phase(buddy_program):
    err = io.StringIO()
    call_command("import_partner_export", "--source", "buddy", str(SAMPLE), stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[:3] == ["users: 0/10 (0%)", "users: 10/10 (100%)", "matches: 0/6 (0%)"]
    assert lines[-1] == "settle: 10/10 (100%)"


def test_a_bad_row_is_rejected_alone_and_so_are_the_rows_that_depend_on_it(buddy_program, tmp_path):
    export = copy_sample(tmp_path)
    append_rows(
        export / "users.csv",
        {
            "external_id": "bu-0011",
            "email": "not-an-email",
            "name": "Bad Mail",
            "role": "participant",
            "joined_at": "2025-02-01T09:00:00Z",
        },
        {
            "external_id": "bu-0012",
            "email": "late@example.org",
            "name": "Late",
            "role": "buddy",
            "joined_at": "2099-01-01T00:00:00Z",
        },
        {
            "external_id": "bu-0001",
            "email": "again@example.org",
            "name": "Twice",
            "role": "participant",
            "joined_at": "2025-02-01T09:00:00Z",
        },
    )
    append_rows(
        export / "matches.csv",
        {
            "match_id": "bm-0007",
            "participant_external_id": "bu-0011",
            "buddy_external_id": "bu-0004",
            "matched_at": "2025-09-01T09:00:00Z",
            "status": "active",
        },
        {
            "match_id": "bm-0008",
            "participant_external_id": "bu-0009",
            "buddy_external_id": "bu-0008",
            "matched_at": "2025-09-01T09:00:00Z",
            "status": "ended",
            "ended_at": "2025-08-01T09:00:00Z",
            "end_reason": "completed",
        },
        {
            "match_id": "bm-0009",
            "participant_external_id": "bu-0002",
            "buddy_external_id": "bu-0004",
            "matched_at": "2025-09-01T09:00:00Z",
            "status": "active",
        },
    )
    append_rows(
        export / "checkins.csv",
        {
            "checkin_id": "bc-0011",
            "match_id": "bm-0007",
            "by_external_id": "bu-0011",
            "mood": "4",
            "at": "2025-09-02T09:00:00Z",
        },
        {
            "checkin_id": "bc-0012",
            "match_id": "bm-0003",
            "by_external_id": "bu-0001",
            "mood": "4",
            "at": "2025-09-02T09:00:00Z",
        },
    )
    append_rows(
        export / "feedback.csv",
        {
            "feedback_id": "bf-0006",
            "match_id": "bm-0001",
            "author_external_id": "bu-0001",
            "rating": "5",
            "submitted_at": "2025-08-01T09:00:00Z",
        },
    )
    append_rows(
        export / "events.csv",
        {
            "event_id": "be-0003",
            "user_external_id": "bu-0404",
            "title": "Picnic",
            "attended_at": "2025-06-01T12:00:00Z",
        },
    )

    report = run_import(export)

    assert report["rejected"] == [
        {"file": "users.csv", "row": 11, "reason": "email: Enter a valid e-mail address."},
        {"file": "users.csv", "row": 12, "reason": "joined_at: It cannot be in the future."},
        {"file": "users.csv", "row": 13, "reason": "external_id bu-0001 is already in row 1."},
        {
            "file": "matches.csv",
            "row": 7,
            "reason": "participant_external_id bu-0011: that user was rejected (users.csv row 11).",
        },
        {"file": "matches.csv", "row": 8, "reason": "ended_at: A match ends after it started (matched_at)."},
        {
            "file": "matches.csv",
            "row": 9,
            "reason": "participant_external_id bu-0002 is not a participant of buddy-2026.",
        },
        {
            "file": "events.csv",
            "row": 9,
            "reason": "user_external_id bu-0404: no Buddy user with this id in the export or on the platform.",
        },
        {"file": "checkins.csv", "row": 11, "reason": "match_id bm-0007: that match was rejected (matches.csv row 7)."},
        {
            "file": "checkins.csv",
            "row": 12,
            "reason": "by_external_id bu-0001 is not one of the pair of match bm-0003.",
        },
        {"file": "feedback.csv", "row": 6, "reason": "This person's feedback on this match is already in row 1."},
    ]
    assert counts(report) == {
        "users": (10, 0, 0, 3),
        "matches": (6, 0, 0, 3),
        "events": (8, 0, 0, 1),
        "checkins": (10, 0, 0, 2),
        "feedback": (5, 0, 0, 1),
        "milestones": (6, 0, 0, 0),
    }
    # Nothing of a rejected row was written, everything else was.
    assert not User.objects.filter(email__in=["not-an-email", "late@example.org", "again@example.org"]).exists()
    assert not ExternalIdentity.objects.filter(external_id__in=["bu-0011", "bu-0012"]).exists()
    assert not Match.objects.filter(external_id__in=["bm-0007", "bm-0008", "bm-0009"]).exists()
    assert not CheckIn.objects.filter(external_id__in=["bc-0011", "bc-0012"]).exists()
    assert Feedback.objects.get(external_id="bf-0001").rating == 2
    assert enrollment_states() == EXPECTED_ENROLLMENTS


def test_corrections_are_updates_and_settle_the_enrollments_again(buddy_program, tmp_path):
    export = copy_sample(tmp_path)
    run_import(export)
    rewrite(
        export / "matches.csv",
        "match_id",
        "bm-0003",
        status="ended",
        ended_at="2026-02-01T10:00:00Z",
        end_reason="completed",
    )
    rewrite(
        export / "users.csv",
        "external_id",
        "bu-0005",
        name="Daria Melnyk-Koval",
        timezone="Europe/Kyiv",
        languages="uk",
    )
    rewrite(export / "checkins.csv", "checkin_id", "bc-0001", mood="2", notes="Late again.")
    rewrite(export / "feedback.csv", "feedback_id", "bf-0005", rating="4")
    rewrite(export / "events.csv", "event_id", "be-0002", title="Harbour walk")
    rewrite(export / "milestones.csv", "milestone_id", "bs-0003", title="First coffee")

    report = run_import(export)

    assert counts(report) == {
        "users": (0, 1, 9, 0),
        "matches": (0, 1, 5, 0),
        "events": (0, 4, 4, 0),
        "checkins": (0, 1, 9, 0),
        "feedback": (0, 1, 4, 0),
        "milestones": (0, 1, 5, 0),
    }
    states = enrollment_states()
    assert states["bu-0005"] == (
        "participant",
        "completed",
        at("2026-02-01T10:00:00Z"),
        None,
        at("2025-03-04T17:00:00Z"),
    )
    assert states["bu-0010"][1:3] == ("completed", at("2026-02-01T10:00:00Z"))
    daria = User.objects.get(external_identities__external_id="bu-0005")
    assert (daria.full_name, daria.timezone) == ("Daria Melnyk-Koval", "Europe/Kyiv")
    assert (daria.mentorship_profiles.get().languages, daria.mentorship_profiles.get().timezone) == (
        ["uk"],
        "Europe/Kyiv",
    )
    assert (CheckIn.objects.get(external_id="bc-0001").mood, CheckIn.objects.get(external_id="bc-0001").notes) == (
        2,
        "Late again.",
    )
    assert Feedback.objects.get(external_id="bf-0005").rating == 4
    assert set(Activity.objects.filter(external_id="be-0002").values_list("title", flat=True)) == {"Harbour walk"}
    assert Milestone.objects.get(external_id="bs-0003").title == "First coffee"
    assert OutboxEvent.objects.filter(event_type="mentorship.match.ended").count() == 5
    assert JourneyFlags.objects.get(user=daria).flags["match_active"] is False


def test_an_ended_match_does_not_reopen_and_people_do_not_change(buddy_program, tmp_path):
    export = copy_sample(tmp_path)
    run_import(export)
    before = snapshot()
    rewrite(export / "matches.csv", "match_id", "bm-0004", status="active", ended_at="", end_reason="")
    rewrite(export / "matches.csv", "match_id", "bm-0005", buddy_external_id="bu-0006")

    report = run_import(export)

    reopen = "match_id bm-0004 ended on the platform on 2025-08-12T23:00:00Z; an ended match does not reopen."
    assert report["rejected"] == [
        {"file": "matches.csv", "row": 4, "reason": reopen},
        {
            "file": "matches.csv",
            "row": 5,
            "reason": "match_id bm-0005 pairs other people on the platform; a match's people do not change.",
        },
        # Their check-ins and feedback depend on them.
        {"file": "checkins.csv", "row": 4, "reason": "match_id bm-0004: that match was rejected (matches.csv row 4)."},
        {"file": "checkins.csv", "row": 5, "reason": "match_id bm-0005: that match was rejected (matches.csv row 5)."},
        {"file": "checkins.csv", "row": 10, "reason": "match_id bm-0004: that match was rejected (matches.csv row 4)."},
        {"file": "feedback.csv", "row": 5, "reason": "match_id bm-0004: that match was rejected (matches.csv row 4)."},
    ]
    assert report["total"] == {"created": 0, "updated": 0, "unchanged": 39, "rejected": 6}
    assert snapshot() == before


def test_a_change_of_role_is_rejected_with_everything_of_that_person(buddy_program, tmp_path):
    export = copy_sample(tmp_path)
    run_import(export)
    before = snapshot()
    rewrite(export / "users.csv", "external_id", "bu-0003", role="buddy")

    report = run_import(export)

    gone = "that user was rejected (users.csv row 3)."
    assert report["rejected"] == [
        {
            "file": "users.csv",
            "row": 3,
            "reason": "bu-0003 joined buddy-2026 as participant; a change of role is not imported.",
        },
        {"file": "matches.csv", "row": 2, "reason": f"participant_external_id bu-0003: {gone}"},
        {"file": "events.csv", "row": 3, "reason": f"user_external_id bu-0003: {gone}"},
        {"file": "checkins.csv", "row": 2, "reason": "match_id bm-0002: that match was rejected (matches.csv row 2)."},
        {"file": "checkins.csv", "row": 8, "reason": "match_id bm-0002: that match was rejected (matches.csv row 2)."},
        {"file": "feedback.csv", "row": 3, "reason": "match_id bm-0002: that match was rejected (matches.csv row 2)."},
        {"file": "feedback.csv", "row": 4, "reason": "match_id bm-0002: that match was rejected (matches.csv row 2)."},
        {"file": "milestones.csv", "row": 3, "reason": f"user_external_id bu-0003: {gone}"},
    ]
    assert snapshot() == before


def test_the_program_is_named_or_the_single_active_buddy_program(make_program, buddy_template, tmp_path):
    with pytest.raises(CommandError, match="No active buddy program; create one or name it"):
        run_import()
    make_program(buddy_template, name="Buddy Berlin")
    make_program(buddy_template, name="Buddy Kyiv")
    with pytest.raises(CommandError, match=r"Several active buddy programs \(buddy-berlin, buddy-kyiv\)"):
        run_import()
    with pytest.raises(CommandError, match="No program with the key 'buddy-lviv'"):
        run_import(SAMPLE, "--program", "buddy-lviv")
    make_program(buddy_template, name="Buddy Paused", status="paused")
    with pytest.raises(CommandError, match="The program 'buddy-paused' is paused; partner records go into active"):
        run_import(SAMPLE, "--program", "buddy-paused")
    assert run_import(SAMPLE, "--program", "buddy-kyiv")["total"]["created"] == 45
    assert set(Enrollment.objects.values_list("program__program_key", flat=True)) == {"buddy-kyiv"}
    assert User.objects.count() == 10


def test_json_files_import_like_csv(buddy_program, tmp_path):
    write_export(generate(SMALL), tmp_path / "json", fmt="json")
    report = run_import(tmp_path / "json")
    assert report["total"] == {"created": 45, "updated": 0, "unchanged": 0, "rejected": 0}
    assert enrollment_states() == EXPECTED_ENROLLMENTS
    assert Profile.objects.get(user__external_identities__external_id="bu-0001").languages == ["uk", "de"]
    assert run_import(SAMPLE)["total"] == {"created": 0, "updated": 0, "unchanged": 45, "rejected": 0}


def test_a_file_that_cannot_be_read_stops_the_import_before_anything_is_written(buddy_program, tmp_path):
    export = copy_sample(tmp_path)
    (export / "matches.csv").write_text("match_id,participant_external_id\nbm-1,bu-0001\n")
    with pytest.raises(
        CommandError, match=r"matches.csv: the header lacks the column\(s\) buddy_external_id, matched_at, status"
    ):
        run_import(export)
    (export / "matches.csv").unlink()
    (export / "milestones.json").write_text("[]")
    with pytest.raises(CommandError, match="Both milestones.csv and milestones.json exist; keep one of them."):
        run_import(export)
    (export / "milestones.csv").unlink()
    (export / "milestones.json").write_text("{not json")
    with pytest.raises(CommandError, match="milestones.json: not valid JSON"):
        run_import(export)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CommandError, match="holds no export file"):
        run_import(empty)
    assert (User.objects.count(), OutboxEvent.objects.count()) == (0, 0)


def test_people_already_on_the_platform_are_linked_by_email(buddy_program, make_user):
    olena = make_user(email="Olena.Kovalenko@example.org", full_name="Olena K.")
    report = run_import()
    assert counts(report)["users"] == (10, 0, 0, 0)
    assert User.objects.count() == 10
    identity = ExternalIdentity.objects.get(external_id="bu-0001")
    assert identity.user_id == olena.pk
    olena.refresh_from_db()
    assert olena.full_name == "Olena Kovalenko"
    assert olena.check_password("s3cret-passw0rd")


def test_the_import_costs_the_same_queries_whatever_the_number_of_rows(buddy_program, tmp_path):
    write_export(generate(scaled(60)), tmp_path / "small")
    write_export(generate(scaled(600)), tmp_path / "large")
    measured = []
    for name in ("small", "large"):
        sid = transaction.savepoint()
        with CaptureQueriesContext(connection) as queries:
            report = partner_import(source="buddy", path=tmp_path / name)
        assert report.total.rejected == 0
        measured.append((report.total.created, len(queries)))
        transaction.savepoint_rollback(sid)
    (small_rows, small_queries), (large_rows, large_queries) = measured
    assert (small_rows, large_rows) == (60, 600)
    assert small_queries == large_queries
