"""Profiles, proposals, approvals, rejections, manual matches, swaps and self-acceptance through
the services, on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from datetime import time as wall

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import clock
from core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry
from crm_sync.models import OutboxEvent
from enrollments.models import Enrollment
from mentorship.models import Match, Profile, ProposalBatch
from mentorship.services import (
    match_create_manual,
    match_end,
    match_reject,
    match_respond,
    matches_approve,
    matches_propose,
    matches_reject,
    profile_upsert,
    proposals_swap,
)
from notifications.models import Notification
from programs.services import program_update
from scheduling.services.availability import availability_create

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    state = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: state["now"])
    return lambda value: state.__setitem__("now", value)


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("created_at"))


def _pairs(batch: ProposalBatch) -> list[tuple]:
    return sorted((m.mentee.email, m.mentor.email) for m in batch.matches.select_related("mentor", "mentee"))


def _errors(excinfo) -> dict[str, str]:
    return excinfo.value.errors


# --- Profiles -----------------------------------------------------------------------------------


def test_a_profile_is_created_with_cleaned_fields_and_audited(program, make_user, operator):
    user = make_user("mira@example.org", timezone="Europe/Berlin")
    avoided = make_user("avoid@example.org")
    profile, created = profile_upsert(
        program=program,
        user=user,
        kind="mentor",
        data={
            "capacity": 2,
            "skills": [" Python ", "SQL", "Python"],
            "languages": ["EN", "uk", "en"],
            "industries": ["fintech"],
            "goals": ["career change"],
            "avoid_user_ids": [str(avoided.pk), str(avoided.pk).upper()],
            "bio": "Backend engineer.",
        },
        actor=operator,
    )
    assert created is True
    profile.refresh_from_db()
    assert (
        profile.kind,
        profile.capacity,
        profile.skills,
        profile.languages,
        profile.industries,
        profile.goals,
        profile.avoid_user_ids,
        profile.timezone,
        profile.active,
    ) == (
        "mentor",
        2,
        ["Python", "SQL"],
        ["en", "uk"],
        ["fintech"],
        ["career change"],
        [str(avoided.pk)],
        "Europe/Berlin",
        True,
    )
    [entry] = _audit("mentorship_profile.created")
    assert (entry.actor_id, entry.target_id) == (operator.pk, str(profile.pk))
    assert entry.changes == {
        "capacity": 2,
        "skills": ["Python", "SQL"],
        "languages": ["en", "uk"],
        "industries": ["fintech"],
        "goals": ["career change"],
        "avoid_user_ids": [str(avoided.pk)],
        "bio": "Backend engineer.",
        "timezone": "Europe/Berlin",
    }


def test_defaults_on_create_capacity_one_and_the_users_or_programs_zone(make_program, mentorship_template, make_user):
    kyiv = make_program(mentorship_template, name="Kyiv program", timezone="Europe/Kyiv")
    mentor, _ = profile_upsert(program=kyiv, user=make_user(), kind="mentor", data={})
    mentee, _ = profile_upsert(program=kyiv, user=make_user(timezone="Asia/Kolkata"), kind="mentee", data={})
    assert (mentor.capacity, mentor.timezone) == (1, "Europe/Kyiv")
    assert (mentee.capacity, mentee.timezone) == (1, "Asia/Kolkata")


def test_an_update_changes_only_the_given_fields_and_audits_old_and_new(program, make_user, operator):
    user = make_user()
    profile, _ = profile_upsert(program=program, user=user, kind="mentee", data={"skills": ["sql"], "goals": ["job"]})
    again, created = profile_upsert(
        program=program, user=user, kind="mentee", data={"skills": ["sql", "python"], "goals": ["job"]}, actor=operator
    )
    assert (created, again.pk) == (False, profile.pk)
    again.refresh_from_db()
    assert (again.skills, again.goals) == (["sql", "python"], ["job"])
    [entry] = _audit("mentorship_profile.updated")
    assert entry.changes == {"skills": [["sql"], ["sql", "python"]]}
    # The same data again changes nothing and writes no audit row.
    profile_upsert(program=program, user=user, kind="mentee", data={"skills": ["sql", "python"]}, actor=operator)
    assert len(_audit("mentorship_profile.updated")) == 1
    # One profile per person and side; the other side is a second profile.
    _, created = profile_upsert(program=program, user=user, kind="mentor", data={})
    assert created is True
    assert Profile.objects.filter(user=user, program=program).count() == 2


@pytest.mark.parametrize(
    ("kind", "data", "errors"),
    [
        ("buddy", {}, {"kind": "Use one of: mentor, mentee."}),
        ("mentor", {"skills": "python"}, {"skills": "Give a list of short texts."}),
        ("mentor", {"skills": ["python", " "]}, {"skills/1": "Each entry is a text of 1 to 100 characters."}),
        ("mentor", {"goals": ["x" * 101]}, {"goals/0": "Each entry is a text of 1 to 100 characters."}),
        ("mentor", {"industries": ["a"] * 51}, {"industries": "At most 50 entries."}),
        ("mentor", {"timezone": "Mars/Olympus"}, {"timezone": "Give an IANA time zone, e.g. Europe/Kyiv."}),
        ("mentor", {"timezone": 3}, {"timezone": "Give an IANA time zone, e.g. Europe/Kyiv."}),
        (
            "mentor",
            {"capacity": 3},
            {"capacity": "Give a whole number from 0 to 2 (this program's most mentees per mentor)."},
        ),
        (
            "mentor",
            {"capacity": -1},
            {"capacity": "Give a whole number from 0 to 2 (this program's most mentees per mentor)."},
        ),
        (
            "mentor",
            {"capacity": True},
            {"capacity": "Give a whole number from 0 to 2 (this program's most mentees per mentor)."},
        ),
        ("mentee", {"capacity": 2}, {"capacity": "Capacity is a mentor's; leave it out for a mentee."}),
        ("mentor", {"avoid_user_ids": "x"}, {"avoid_user_ids": "Give a list of at most 500 user ids."}),
        ("mentor", {"avoid_user_ids": ["not-a-uuid"]}, {"avoid_user_ids/0": "Not a user id."}),
        ("mentor", {"bio": 5}, {"bio": "A text of at most 5,000 characters."}),
        ("mentor", {"preferences": []}, {"preferences": "Give an object."}),
        ("mentor", {"active": "yes"}, {"active": "true or false."}),
        (
            "mentor",
            {"skills": 1, "capacity": 9, "timezone": "Nowhere"},
            {
                "skills": "Give a list of short texts.",
                "capacity": "Give a whole number from 0 to 2 (this program's most mentees per mentor).",
                "timezone": "Give an IANA time zone, e.g. Europe/Kyiv.",
            },
        ),
    ],
)
def test_profile_field_errors(program, make_user, kind, data, errors):
    with pytest.raises(ValidationFailed) as excinfo:
        profile_upsert(program=program, user=make_user(), kind=kind, data=data)
    assert _errors(excinfo) == errors
    assert Profile.objects.count() == 0


def test_avoid_ids_must_name_other_known_people(program, make_user):
    user = make_user()
    stranger = uuid.uuid4()
    with pytest.raises(ValidationFailed) as excinfo:
        profile_upsert(program=program, user=user, kind="mentee", data={"avoid_user_ids": [str(stranger)]})
    assert _errors(excinfo) == {"avoid_user_ids": f"No user with the id {stranger}."}
    with pytest.raises(ValidationFailed) as excinfo:
        profile_upsert(program=program, user=user, kind="mentee", data={"avoid_user_ids": [str(user.pk)]})
    assert _errors(excinfo) == {"avoid_user_ids": "A person cannot avoid themselves."}


def test_the_capacity_limit_comes_from_the_program_config(make_program, mentorship_template, make_user):
    wide = make_program(mentorship_template, name="Wide", config_overrides={"matching": {"max_mentees_per_mentor": 5}})
    profile, _ = profile_upsert(program=wide, user=make_user(), kind="mentor", data={"capacity": 5})
    assert profile.capacity == 5
    with pytest.raises(ValidationFailed) as excinfo:
        profile_upsert(program=wide, user=make_user(), kind="mentor", data={"capacity": 6})
    assert _errors(excinfo) == {"capacity": "Give a whole number from 0 to 5 (this program's most mentees per mentor)."}


def test_profiles_need_a_template_that_matches(builtin_templates, make_program, make_user):
    courses = make_program(builtin_templates["upskilling-courses"], name="Courses")
    with pytest.raises(ValidationFailed) as excinfo:
        profile_upsert(program=courses, user=make_user(), kind="mentor", data={})
    assert _errors(excinfo) == {"program_id": "This program's template does not support matching."}


# --- Propose ------------------------------------------------------------------------------------


def test_propose_records_open_proposals_with_scores_explanations_and_the_unmatched(
    program, mentor_profile, mentee_profile, operator
):
    mira = mentor_profile("mira@example.org", skills=["python", "sql"], capacity=2, timezone="UTC")
    mentee_profile("ada@example.org", skills=["python"], timezone="UTC")
    mentee_profile("ben@example.org", skills=["python", "go"], timezone="UTC")
    german = mentee_profile("de@example.org", skills=["python"], languages=["de"], timezone="UTC")

    batch = matches_propose(program=program, actor=operator)

    assert _pairs(batch) == [("ada@example.org", "mira@example.org"), ("ben@example.org", "mira@example.org")]
    rows = {m.mentee.email: m for m in batch.matches.select_related("mentee")}
    ada = rows["ada@example.org"]
    assert (ada.status, ada.source, ada.program_id, ada.mentor_id, ada.score) == (
        "proposed",
        "proposal",
        program.pk,
        mira.user_id,
        1.0,
    )
    # Ben wants two skills, Mira offers one of them: (0.3 + 0.3 * 0.5 + 0.2) / 0.8.
    assert rows["ben@example.org"].score == 0.8125
    assert rows["ben@example.org"].explanation["criteria"]["skills"]["detail"] == "1 of 2 wanted: python."
    assert (batch.total_score, batch.greedy_score, batch.created_by_id) == (1.8125, 1.8125, operator.pk)
    assert batch.settings == {
        "weights": {
            "language": 0.3,
            "skills": 0.3,
            "goals": 0.1,
            "industry": 0.1,
            "timezone": 0.2,
            "availability": 0.0,
        },
        "min_score": 0.3,
        "hard_constraints": {"shared_language": True, "max_timezone_hours": None},
        "fairness": 0.0,
        "availability_target_hours": 4.0,
        "mentees": 3,
        "mentors": 1,
        "eligible_pairs": 2,
    }
    assert batch.unmatched == [
        {
            "mentee_id": str(german.user_id),
            "code": "no_language",
            "reason": "No mentor with a free place shares a language with them.",
        }
    ]
    [entry] = _audit("match.proposed")
    assert (entry.actor_id, entry.target_id, entry.changes) == (
        operator.pk,
        str(batch.pk),
        {"proposals": 2, "unmatched": 1, "total_score": 1.8125, "greedy_score": 1.8125},
    )
    # Proposals are not matches yet: no enrollment, no event, no notice.
    assert Enrollment.objects.count() == 0
    assert OutboxEvent.objects.filter(event_type__startswith="mentorship.").count() == 0
    assert Notification.objects.count() == 0


def test_a_new_run_withdraws_the_open_proposals_of_earlier_runs(program, mentor_profile, mentee_profile, operator):
    mentor_profile("mira@example.org")
    mentee_profile("ada@example.org")
    first = matches_propose(program=program, actor=operator)
    second = matches_propose(program=program, actor=operator)
    [old] = first.matches.all()
    [new] = second.matches.all()
    assert (old.status, old.reason) == ("withdrawn", "Replaced by a newer run.")
    assert (new.status, new.mentor_id, new.mentee_id) == ("proposed", old.mentor_id, old.mentee_id)
    [entry] = _audit("match.proposals_withdrawn")
    assert (entry.target_id, entry.changes, entry.reason) == (
        str(program.pk),
        {"withdrawn": 1},
        "A new proposal run replaces them.",
    )
    assert Match.objects.filter(status="proposed").count() == 1


def test_rejected_and_badly_ended_pairs_are_never_proposed_again(program, mentor_profile, mentee_profile, operator):
    mentor_profile("mira@example.org", capacity=2)
    ada = mentee_profile("ada@example.org")
    ben = mentee_profile("ben@example.org")
    batch = matches_propose(program=program, actor=operator)
    by_mentee = {m.mentee_id: m for m in batch.matches.all()}
    match_reject(match=by_mentee[ada.user_id], reason="They met before.", actor=operator)
    [approved] = matches_approve(program=program, proposal_ids=[by_mentee[ben.user_id].pk], actor=operator)
    match_end(match=approved, end_reason="no_show", actor=operator)

    again = matches_propose(program=program, actor=operator)
    assert list(again.matches.all()) == []
    reason = (
        "Every remaining mentor is excluded (avoid lists, declared conflicts, pairs that ended badly or were rejected)."
    )
    assert sorted((u["mentee_id"], u["code"], u["reason"]) for u in again.unmatched) == sorted(
        [(str(ada.user_id), "no_exclusions", reason), (str(ben.user_id), "no_exclusions", reason)]
    )


def test_a_pair_that_ended_completed_may_be_proposed_again(program, mentor_profile, mentee_profile, operator):
    mira = mentor_profile("mira@example.org")
    ada = mentee_profile("ada@example.org")
    [proposal] = matches_propose(program=program, actor=operator).matches.all()
    [match] = matches_approve(program=program, proposal_ids=[proposal.pk], actor=operator)
    match_end(match=match, end_reason="completed", actor=operator)
    [again] = matches_propose(program=program, actor=operator).matches.all()
    assert (again.mentor_id, again.mentee_id) == (mira.user_id, ada.user_id)


def test_mentees_with_an_active_match_are_skipped_and_mentors_count_their_free_places(
    program, mentor_profile, mentee_profile, operator
):
    mira = mentor_profile("mira@example.org", capacity=2)
    ada = mentee_profile("ada@example.org")
    mentee_profile("ben@example.org")
    mentee_profile("cat@example.org")
    match_create_manual(program=program, mentor=mira.user, mentee=ada.user, reason="Known pair.", actor=operator)

    batch = matches_propose(program=program, actor=operator)
    # Mira has one free place left; Ada is busy; Ben or Cat gets the place.
    assert batch.matches.count() == 1
    assert batch.settings["mentees"] == 2
    codes = sorted(u["code"] for u in batch.unmatched)
    assert codes == ["already_matched", "capacity_taken"]
    [skipped] = [u for u in batch.unmatched if u["code"] == "already_matched"]
    assert skipped == {
        "mentee_id": str(ada.user_id),
        "code": "already_matched",
        "reason": "They already have an active match in this program.",
    }


def test_a_mentors_places_are_capped_by_the_programs_current_limit(program, mentor_profile, mentee_profile, operator):
    mentor_profile("mira@example.org", capacity=2)
    for email in ("ada@example.org", "ben@example.org"):
        mentee_profile(email)
    program_update(
        program=program, data={"config_overrides": {"matching": {"max_mentees_per_mentor": 1}}}, actor=operator
    )
    batch = matches_propose(program=program, actor=operator)
    assert (batch.matches.count(), [u["code"] for u in batch.unmatched]) == (1, ["capacity_taken"])


def test_inactive_profiles_and_users_take_no_part(program, mentor_profile, mentee_profile, operator):
    mentor_profile("away@example.org", active=False)
    retired = mentor_profile("retired@example.org")
    retired.user.is_active = False
    retired.user.save(update_fields=["is_active"])
    mentee_profile("ada@example.org")
    batch = matches_propose(program=program, actor=operator)
    assert (batch.settings["mentors"], batch.matches.count(), [u["code"] for u in batch.unmatched]) == (
        0,
        0,
        ["no_capacity"],
    )


def _weekly(program, user, start: int, end: int) -> None:
    availability_create(
        program=program,
        items=[
            {
                "owner": user,
                "kind": "weekly",
                "weekday": 0,
                "start_time": wall(start),
                "end_time": wall(end),
                "timezone": "UTC",
                "valid_from": date(2026, 3, 1),
            }
        ],
    )


AVAILABILITY_ONLY = {
    "matching": {
        "min_score": 0,
        "weights": {"language": 0, "skills": 0, "timezone": 0, "industry": 0, "goals": 0, "availability": 1},
    }
}


def test_availability_counts_the_scheduling_windows_when_its_weight_is_positive(
    make_program, mentorship_template, mentor_profile, mentee_profile, operator
):
    program = make_program(mentorship_template, name="By the clock", config_overrides=AVAILABILITY_ONLY)
    ada = mentee_profile("ada@example.org", in_program=program)
    ben = mentee_profile("ben@example.org", in_program=program)
    short = mentor_profile("short@example.org", in_program=program)
    long = mentor_profile("long@example.org", in_program=program)
    # The reference week starts at the next full hour, Monday 10:00 UTC, and lasts 7 days.
    for mentee in (ada, ben):
        _weekly(program, mentee.user, 10, 14)
    _weekly(program, short.user, 12, 13)
    _weekly(program, long.user, 9, 16)

    batch = matches_propose(program=program, actor=operator)
    proposals = {m.mentor_id: m for m in batch.matches.all()}
    assert (proposals[long.user_id].score, proposals[short.user_id].score) == (1.0, 0.25)
    assert proposals[long.user_id].explanation["criteria"] == {
        "availability": {"weight": 1.0, "score": 1.0, "counted": True, "detail": "4 h a week free at the same time."}
    }
    assert proposals[short.user_id].explanation["criteria"]["availability"]["detail"] == (
        "1 h a week free at the same time."
    )
    assert (batch.total_score, batch.unmatched) == (1.25, [])


def test_availability_is_not_read_when_its_weight_is_zero(program, mentor_profile, mentee_profile, operator):
    ada = mentee_profile("ada@example.org")
    mira = mentor_profile("mira@example.org")
    _weekly(program, ada.user, 10, 14)
    _weekly(program, mira.user, 10, 14)
    with CaptureQueriesContext(connection) as ctx:
        batch = matches_propose(program=program, actor=operator)
    assert not any("scheduling_availabilitywindow" in q["sql"] for q in ctx.captured_queries)
    [proposal] = batch.matches.all()
    assert "availability" not in proposal.explanation["criteria"]


def test_propose_needs_an_active_matching_program(make_program, mentorship_template, builtin_templates, operator):
    paused = make_program(mentorship_template, name="Paused", status="paused")
    with pytest.raises(Conflict) as excinfo:
        matches_propose(program=paused, actor=operator)
    assert str(excinfo.value) == "'Paused' is paused; matches are made in active programs only."

    off = make_program(mentorship_template, name="Off", config_overrides={"matching": {"enabled": False}})
    with pytest.raises(Conflict) as excinfo:
        matches_propose(program=off, actor=operator)
    assert str(excinfo.value) == "Matching is turned off in 'Off' (config matching.enabled)."

    courses = make_program(builtin_templates["upskilling-courses"], name="Courses")
    with pytest.raises(ValidationFailed) as excinfo:
        matches_propose(program=courses, actor=operator)
    assert _errors(excinfo) == {"program_id": "This program's template does not support matching."}
    assert ProposalBatch.objects.count() == 0


# --- Approve and reject -------------------------------------------------------------------------


@pytest.fixture
def two_proposals(program, mentor_profile, mentee_profile, operator):
    """Mira (capacity 2) proposed to Ada and Ben."""
    mira = mentor_profile("mira@example.org", capacity=2)
    ada = mentee_profile("ada@example.org")
    ben = mentee_profile("ben@example.org")
    batch = matches_propose(program=program, actor=operator)
    by_mentee = {m.mentee_id: m for m in batch.matches.all()}
    return mira, by_mentee[ada.user_id], by_mentee[ben.user_id]


def test_approval_activates_enrolls_emits_and_notifies(program, two_proposals, operator):
    mira, ada_proposal, _ = two_proposals
    [match] = matches_approve(program=program, proposal_ids=[ada_proposal.pk], actor=operator, reason="Good fit.")
    match.refresh_from_db()
    assert (match.status, match.started_at, match.decided_by_id) == ("active", NOW, operator.pk)
    [entry] = _audit("match.approved")
    assert (entry.target_id, entry.reason, entry.changes["status"]) == (
        str(match.pk),
        "Good fit.",
        ["proposed", "active"],
    )
    assert sorted(Enrollment.objects.values_list("user__email", "role", "status")) == [
        ("ada@example.org", "mentee", "active"),
        ("mira@example.org", "mentor", "active"),
    ]
    assert OutboxEvent.objects.filter(event_type="mentorship.match.created", subject_id=str(match.pk)).count() == 1
    assert sorted(
        Notification.objects.filter(kind="mentorship_match_started").values_list("user__email", "channel")
    ) == [
        ("ada@example.org", "dashboard"),
        ("ada@example.org", "email"),
        ("mira@example.org", "dashboard"),
        ("mira@example.org", "email"),
    ]


def test_approval_is_all_or_nothing_with_an_error_per_proposal(program, two_proposals, operator):
    _, ada_proposal, ben_proposal = two_proposals
    match_reject(match=ben_proposal, reason="Ben asked to wait.", actor=operator)
    with pytest.raises(Conflict) as excinfo:
        matches_approve(program=program, proposal_ids=[ada_proposal.pk, ben_proposal.pk], actor=operator)
    assert str(excinfo.value) == "1 of the 2 proposals cannot be approved; nothing was approved."
    assert _errors(excinfo) == {f"proposal_ids/{ben_proposal.pk}": "It is rejected, not proposed."}
    assert Match.objects.get(pk=ada_proposal.pk).status == "proposed"
    assert Enrollment.objects.count() == 0


def test_approval_holds_the_mentors_current_capacity(program, two_proposals, operator):
    mira, ada_proposal, ben_proposal = two_proposals
    profile_upsert(program=program, user=mira.user, kind="mentor", data={"capacity": 1}, actor=operator)
    with pytest.raises(Conflict) as excinfo:
        matches_approve(program=program, proposal_ids=[ada_proposal.pk, ben_proposal.pk], actor=operator)
    later = max([ada_proposal, ben_proposal], key=lambda m: (m.created_at, m.pk))
    assert _errors(excinfo) == {f"proposal_ids/{later.pk}": "mira@example.org has no free place (capacity 1)."}
    assert Match.objects.filter(status="active").count() == 0
    matches_approve(program=program, proposal_ids=[ada_proposal.pk], actor=operator)
    with pytest.raises(Conflict) as excinfo:
        matches_approve(program=program, proposal_ids=[ben_proposal.pk], actor=operator)
    assert _errors(excinfo) == {f"proposal_ids/{ben_proposal.pk}": "mira@example.org has no free place (capacity 1)."}


def test_a_mentee_matched_meanwhile_cannot_be_approved_again(program, two_proposals, mentor_profile, operator):
    _, ada_proposal, _ = two_proposals
    other = mentor_profile("otto@example.org")
    match_create_manual(
        program=program, mentor=other.user, mentee=ada_proposal.mentee, reason="Urgent.", actor=operator
    )
    with pytest.raises(Conflict) as excinfo:
        matches_approve(program=program, proposal_ids=[ada_proposal.pk], actor=operator)
    assert _errors(excinfo) == {
        f"proposal_ids/{ada_proposal.pk}": "ada@example.org already has an active match in this program."
    }


def test_approval_input_errors(program, make_program, mentorship_template, two_proposals, operator):
    _, ada_proposal, _ = two_proposals
    with pytest.raises(ValidationFailed) as excinfo:
        matches_approve(program=program, proposal_ids=[], actor=operator)
    assert _errors(excinfo) == {"proposal_ids": "Name at least one proposal."}
    missing = uuid.uuid4()
    with pytest.raises(NotFound) as excinfo:
        matches_approve(program=program, proposal_ids=[ada_proposal.pk, missing], actor=operator)
    assert str(excinfo.value) == f"No proposal in this program with the id {missing}."
    other = make_program(mentorship_template, name="Other")
    with pytest.raises(NotFound):
        matches_approve(program=other, proposal_ids=[ada_proposal.pk], actor=operator)
    assert Match.objects.get(pk=ada_proposal.pk).status == "proposed"


def test_reject_needs_a_reason_and_is_audited(two_proposals, operator):
    _, ada_proposal, _ = two_proposals
    for blank in ("", "   "):
        with pytest.raises(ValidationFailed) as excinfo:
            match_reject(match=ada_proposal, reason=blank, actor=operator)
        assert _errors(excinfo) == {"reason": "Say why the proposal is rejected."}
    match_reject(match=ada_proposal, reason="They work together.", actor=operator)
    ada_proposal.refresh_from_db()
    assert (ada_proposal.status, ada_proposal.reason, ada_proposal.decided_by_id) == (
        "rejected",
        "They work together.",
        operator.pk,
    )
    [entry] = _audit("match.rejected")
    assert (entry.reason, entry.changes["status"]) == ("They work together.", ["proposed", "rejected"])
    with pytest.raises(IllegalTransition):
        match_reject(match=ada_proposal, reason="Again.", actor=operator)


def test_rejecting_several_is_all_or_nothing_with_one_reason(program, two_proposals, operator):
    _, ada_proposal, ben_proposal = two_proposals
    with pytest.raises(ValidationFailed) as excinfo:
        matches_reject(program=program, proposal_ids=[ada_proposal.pk], reason="  ", actor=operator)
    assert _errors(excinfo) == {"reason": "Say why the proposals are rejected."}
    matches_approve(program=program, proposal_ids=[ada_proposal.pk], actor=operator)
    with pytest.raises(Conflict) as excinfo:
        matches_reject(program=program, proposal_ids=[ben_proposal.pk, ada_proposal.pk], reason="No.", actor=operator)
    assert str(excinfo.value) == "1 of the 2 proposals cannot be rejected; nothing was rejected."
    assert _errors(excinfo) == {f"proposal_ids/{ada_proposal.pk}": "It is active, not proposed."}
    assert Match.objects.get(pk=ben_proposal.pk).status == "proposed"
    [rejected] = matches_reject(program=program, proposal_ids=[ben_proposal.pk], reason="Ben waits.", actor=operator)
    assert (rejected.status, rejected.reason, rejected.decided_by_id) == ("rejected", "Ben waits.", operator.pk)
    assert [e.reason for e in _audit("match.rejected")] == ["Ben waits."]


# --- Manual match -------------------------------------------------------------------------------


def test_a_manual_match_records_the_constraints_it_overrides(program, mentor_profile, mentee_profile, operator):
    mira = mentor_profile("mira@example.org", languages=["en"], timezone="UTC")
    ada = mentee_profile("ada@example.org", languages=["de"], avoid_user_ids=[str(mira.user_id)], timezone="UTC")
    with pytest.raises(ValidationFailed) as excinfo:
        match_create_manual(program=program, mentor=mira.user, mentee=ada.user, reason=" ", actor=operator)
    assert _errors(excinfo) == {"reason": "Say why this pair is made by hand."}

    match = match_create_manual(
        program=program, mentor=mira.user, mentee=ada.user, reason="Ada asked for Mira.", actor=operator
    )
    match.refresh_from_db()
    assert (match.status, match.source, match.reason, match.decided_by_id, match.started_at) == (
        "active",
        "manual",
        "Ada asked for Mira.",
        operator.pk,
        NOW,
    )
    # Scored as the engine would: no shared language (0 x 0.3), same zone (1 x 0.2): 0.2 / 0.5.
    assert match.score == 0.4
    assert match.explanation["manual"] is True
    assert match.explanation["overridden"] == ["language", "exclusions"]
    assert match.explanation["reason"] == "Ada asked for Mira."
    [entry] = _audit("match.created_manually")
    assert (entry.actor_id, entry.target_id, entry.reason) == (operator.pk, str(match.pk), "Ada asked for Mira.")
    assert entry.changes == {
        "mentor": str(mira.user_id),
        "mentee": str(ada.user_id),
        "score": 0.4,
        "overridden": ["language", "exclusions"],
    }
    assert OutboxEvent.objects.filter(event_type="mentorship.match.created", subject_id=str(match.pk)).count() == 1


def test_a_manual_match_holds_the_mentors_capacity(program, mentor_profile, mentee_profile, operator):
    mira = mentor_profile("mira@example.org", capacity=1)
    ada, ben = mentee_profile("ada@example.org"), mentee_profile("ben@example.org")
    match_create_manual(program=program, mentor=mira.user, mentee=ada.user, reason="First.", actor=operator)
    with pytest.raises(Conflict) as excinfo:
        match_create_manual(program=program, mentor=mira.user, mentee=ben.user, reason="Second.", actor=operator)
    assert str(excinfo.value) == "mira@example.org has no free place (capacity 1, 1 active)."
    assert Match.objects.filter(mentor=mira.user).count() == 1


def test_manual_match_input_errors(program, mentor_profile, mentee_profile, make_user, operator):
    mira = mentor_profile("mira@example.org")
    ada = mentee_profile("ada@example.org")
    with pytest.raises(ValidationFailed) as excinfo:
        match_create_manual(program=program, mentor=mira.user, mentee=mira.user, reason="Me.", actor=operator)
    assert _errors(excinfo) == {"mentee_id": "A person cannot be their own mentor."}
    nobody = make_user("nobody@example.org")
    with pytest.raises(ValidationFailed) as excinfo:
        match_create_manual(program=program, mentor=nobody, mentee=ada.user, reason="Why not.", actor=operator)
    assert _errors(excinfo) == {"mentor_id": "nobody@example.org has no mentor profile in this program."}
    [proposal] = matches_propose(program=program, actor=operator).matches.all()
    with pytest.raises(Conflict) as excinfo:
        match_create_manual(program=program, mentor=mira.user, mentee=ada.user, reason="Now.", actor=operator)
    assert str(excinfo.value) == "mira@example.org and ada@example.org are already paired or proposed in this program."


def test_a_mentee_without_a_profile_is_matched_unscored(program, mentor_profile, make_user, operator):
    mira = mentor_profile("mira@example.org")
    walk_in = make_user("walkin@example.org")
    match = match_create_manual(program=program, mentor=mira.user, mentee=walk_in, reason="Walk-in.", actor=operator)
    assert match.score is None
    assert match.explanation == {
        "rule": "Manual match; one of the two has no profile in this program, so it is not scored.",
        "manual": True,
        "overridden": [],
        "reason": "Walk-in.",
    }


def test_a_manual_match_in_place_of_a_proposal_withdraws_it(program, mentor_profile, mentee_profile, operator):
    mira = mentor_profile("mira@example.org")
    otto = mentor_profile("otto@example.org")
    mentee_profile("ada@example.org")
    [proposal] = matches_propose(program=program, actor=operator).matches.select_related("mentor", "mentee")
    other = otto if proposal.mentor_id == mira.user_id else mira
    match = match_create_manual(
        program=program,
        mentor=other.user,
        mentee=proposal.mentee,
        reason="Swap by hand.",
        actor=operator,
        proposal=proposal,
    )
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason) == ("withdrawn", "Replaced by a manual match: Swap by hand.")
    assert (match.status, match.mentor_id) == ("active", other.user_id)


# --- Swap ---------------------------------------------------------------------------------------


def test_swapping_two_proposals_exchanges_their_mentors_and_rescores(program, mentor_profile, mentee_profile, operator):
    python = mentor_profile("py@example.org", skills=["python"], timezone="UTC")
    design = mentor_profile("design@example.org", skills=["design"], timezone="UTC")
    ada = mentee_profile("ada@example.org", skills=["python"], timezone="UTC")
    ben = mentee_profile("ben@example.org", skills=["design"], timezone="UTC")
    batch = matches_propose(program=program, actor=operator)
    by_mentee = {m.mentee_id: m for m in batch.matches.all()}
    first, second = by_mentee[ada.user_id], by_mentee[ben.user_id]
    assert (first.mentor_id, second.mentor_id, first.score, second.score) == (
        python.user_id,
        design.user_id,
        1.0,
        1.0,
    )

    a, b = proposals_swap(first=first, second=second, actor=operator, reason="They know each other.")
    assert (a.pk, b.pk) == (first.pk, second.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.mentor_id, second.mentor_id) == (design.user_id, python.user_id)
    # Language and time zone still fit, skills no more: (0.3 + 0.2) / 0.8.
    assert (first.score, second.score) == (0.625, 0.625)
    assert first.explanation["swapped"] is True
    assert first.explanation["criteria"]["skills"]["detail"] == "0 of 1 wanted: none."
    assert (first.status, second.status) == ("proposed", "proposed")
    [entry] = _audit("match.proposals_swapped")
    assert (entry.changes, entry.reason) == (
        {"first": str(first.pk), "second": str(second.pk)},
        "They know each other.",
    )


def test_swap_refusals(program, mentor_profile, mentee_profile, operator):
    mira = mentor_profile("mira@example.org", capacity=2)
    otto = mentor_profile("otto@example.org")
    for email in ("ada@example.org", "ben@example.org", "cat@example.org"):
        mentee_profile(email)
    first_run = list(matches_propose(program=program, actor=operator).matches.all())
    with_mira = [m for m in first_run if m.mentor_id == mira.user_id]
    [with_otto] = [m for m in first_run if m.mentor_id == otto.user_id]
    assert len(with_mira) == 2
    with pytest.raises(Conflict) as excinfo:
        proposals_swap(first=with_mira[0], second=with_mira[1], actor=operator)
    assert str(excinfo.value) == "Both proposals have the same mentor; there is nothing to swap."

    # Otto's mentee declines him; the next run gives that mentee to Mira, and a swap back is refused.
    match_reject(match=with_otto, reason="They met before.", actor=operator)
    second_run = {m.mentee_id: m for m in matches_propose(program=program, actor=operator).matches.all()}
    declined = second_run[with_otto.mentee_id]
    [now_with_otto] = [m for m in second_run.values() if m.mentor_id == otto.user_id]
    assert declined.mentor_id == mira.user_id
    with pytest.raises(Conflict) as excinfo:
        proposals_swap(first=declined, second=now_with_otto, actor=operator)
    assert str(excinfo.value) == (
        "One of the swapped pairs was rejected or ended badly before; make it by hand with a reason."
    )

    # Only open proposals swap.
    with pytest.raises(Conflict) as excinfo:
        proposals_swap(first=with_mira[0], second=now_with_otto, actor=operator)
    assert str(excinfo.value) == "Swap two open proposals of the same program."
    assert AuditEntry.objects.filter(action="match.proposals_swapped").count() == 0


# --- Self-accept --------------------------------------------------------------------------------


def _self_accept_program(make_program, mentorship_template, who: str):
    return make_program(mentorship_template, name=f"Self {who}", config_overrides={"matching": {"self_accept": who}})


def _one_proposal(program, mentor_profile, mentee_profile, operator) -> Match:
    mentor_profile("mira@example.org", in_program=program)
    mentee_profile("ada@example.org", in_program=program)
    [proposal] = matches_propose(program=program, actor=operator).matches.select_related("mentor", "mentee")
    return proposal


def test_without_self_accept_only_operators_approve(program, mentor_profile, mentee_profile, operator):
    proposal = _one_proposal(program, mentor_profile, mentee_profile, operator)
    for person in (proposal.mentor, proposal.mentee):
        with pytest.raises(PermissionDenied) as excinfo:
            match_respond(match=proposal, user=person, accept=True)
        assert str(excinfo.value) == "In this program an operator approves proposals."
    assert Notification.objects.filter(kind="mentorship_match_proposed").count() == 0


@pytest.mark.parametrize("who", ["mentor", "mentee"])
def test_one_side_accepts_and_the_match_starts(
    make_program, mentorship_template, mentor_profile, mentee_profile, operator, who
):
    program = _self_accept_program(make_program, mentorship_template, who)
    proposal = _one_proposal(program, mentor_profile, mentee_profile, operator)
    deciding = proposal.mentor if who == "mentor" else proposal.mentee
    other = proposal.mentee if who == "mentor" else proposal.mentor
    # The side asked is told about the proposal; the other is not (yet).
    assert {n.user.email for n in Notification.objects.filter(kind="mentorship_match_proposed")} == {deciding.email}
    with pytest.raises(PermissionDenied):
        match_respond(match=proposal, user=other, accept=True)

    match = match_respond(match=proposal, user=deciding, accept=True)
    assert (match.status, match.started_at, match.decided_by_id) == ("active", NOW, deciding.pk)
    assert getattr(match, f"{who}_accepted_at") == NOW
    assert [e.action for e in AuditEntry.objects.filter(target_id=str(match.pk)).order_by("created_at")] == [
        f"match.accepted_by_{who}",
        "match.accepted",
    ]
    assert AuditEntry.objects.get(target_id=str(match.pk), action="match.accepted").reason == f"Accepted by the {who}."
    with pytest.raises(Conflict) as excinfo:
        match_respond(match=match, user=deciding, accept=True)
    assert str(excinfo.value) == "This proposal is active; it can no longer be answered."


def test_with_both_each_side_must_accept(make_program, mentorship_template, mentor_profile, mentee_profile, operator):
    program = _self_accept_program(make_program, mentorship_template, "both")
    proposal = _one_proposal(program, mentor_profile, mentee_profile, operator)
    assert {n.user_id for n in Notification.objects.filter(kind="mentorship_match_proposed")} == {
        proposal.mentor_id,
        proposal.mentee_id,
    }
    match = match_respond(match=proposal, user=proposal.mentor, accept=True)
    assert (match.status, match.mentor_accepted_at, match.mentee_accepted_at) == ("proposed", NOW, None)
    assert Enrollment.objects.count() == 0
    match = match_respond(match=proposal, user=proposal.mentee, accept=True)
    assert (match.status, match.mentee_accepted_at) == ("active", NOW)
    assert AuditEntry.objects.get(target_id=str(match.pk), action="match.accepted").reason == "Accepted by the people."
    assert Enrollment.objects.count() == 2


def test_declining_rejects_and_strangers_see_nothing(
    make_program, mentorship_template, mentor_profile, mentee_profile, make_user, operator
):
    program = _self_accept_program(make_program, mentorship_template, "both")
    proposal = _one_proposal(program, mentor_profile, mentee_profile, operator)
    with pytest.raises(NotFound):
        match_respond(match=proposal, user=make_user(), accept=True)
    match = match_respond(match=proposal, user=proposal.mentee, accept=False)
    assert (match.status, match.reason, match.decided_by_id) == (
        "rejected",
        "Declined by the mentee.",
        proposal.mentee_id,
    )
