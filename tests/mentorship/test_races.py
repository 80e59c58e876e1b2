"""Matching under concurrency, raced on PostgreSQL with real transactions: a mentor's capacity
holds however many approvals race, two proposal runs never leave duplicated live pairs, an
approval racing a new run keeps its match, and a self-acceptance racing an operator's approval
does not deadlock. Controls with the locks removed show that the races really overlap."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import IntegrityError

import mentorship.services.matching as matching
from enrollments.services import enrollment_create
from mentorship.models import Match, ProposalBatch
from mentorship.services import match_create_manual, match_respond, matches_approve, matches_propose, profile_upsert
from programs.models import Program
from tests.concurrency import race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

WINDOW_SECONDS = 0.6  # wide enough to overlap on a loaded 2-core machine


@pytest.fixture
def slow_counts(monkeypatch):
    """Sleep after counting a side's active matches, so unserialised transactions overlap; record
    what each count of the mentors' side saw."""
    seen: list[int] = []
    lock = threading.Lock()
    real = matching.active_counts

    def slow_active_counts(program, side):
        counts = real(program, side)
        if side == "mentor":
            with lock:
                seen.append(sum(counts.values()))
        time.sleep(WINDOW_SECONDS)
        return counts

    monkeypatch.setattr(matching, "active_counts", slow_active_counts)
    return seen


@pytest.fixture
def contested(program, mentor_profile, mentee_profile, operator):
    """Mira proposed to Ada and Ben, then her capacity lowered to 1: two proposals, one place.
    Mira is enrolled already, so the racing approvals only differ in the place they take."""
    mira = mentor_profile("mira@example.org", capacity=2)
    mentee_profile("ada@example.org")
    mentee_profile("ben@example.org")
    proposals = list(matches_propose(program=program, actor=operator).matches.all())
    assert len(proposals) == 2
    profile_upsert(program=program, user=mira.user, kind="mentor", data={"capacity": 1})
    enrollment_create(user=mira.user, program=program, role="mentor")
    return proposals


def _approve_each(program, proposals, operator):
    return [(lambda p=p: matches_approve(program=program, proposal_ids=[p.pk], actor=operator)) for p in proposals]


def test_racing_approvals_for_one_place_make_exactly_one_match(program, contested, operator, slow_counts):
    results, conflicts, errors = race(_approve_each(program, contested, operator))

    assert errors == []
    assert (len(results), len(conflicts)) == (1, 1)
    assert Match.objects.filter(status="active").count() == 1
    assert Match.objects.filter(status="proposed").count() == 1
    [[winner]] = results
    loser = next(p for p in contested if p.pk != winner.pk)
    assert conflicts[0].errors == {f"proposal_ids/{loser.pk}": "mira@example.org has no free place (capacity 1)."}
    # The profile lock serialised the counts: the second saw the first's match.
    assert sorted(slow_counts) == [0, 1]


def test_control_without_the_profile_lock_overbooks(program, contested, operator, slow_counts, monkeypatch):
    monkeypatch.setattr(matching, "_lock_profiles", lambda program, user_ids: {})

    results, conflicts, errors = race(_approve_each(program, contested, operator))

    assert (errors, conflicts, len(results)) == ([], [], 2)
    assert Match.objects.filter(status="active").count() == 2  # two mentees for a mentor with one place
    assert slow_counts == [0, 0]


def test_a_manual_match_racing_an_approval_for_the_last_place(
    program, contested, mentee_profile, operator, slow_counts
):
    cat = mentee_profile("cat@example.org")
    proposal = contested[0]
    calls = [
        lambda: matches_approve(program=program, proposal_ids=[proposal.pk], actor=operator),
        lambda: match_create_manual(
            program=program, mentor=proposal.mentor, mentee=cat.user, reason="Cat asked.", actor=operator
        ),
    ]
    results, conflicts, errors = race(calls)

    assert errors == []
    assert (len(results), len(conflicts)) == (1, 1)
    assert Match.objects.filter(mentor=proposal.mentor, status="active").count() == 1


# --- Two proposal runs --------------------------------------------------------------------------


@pytest.fixture
def slow_pool(monkeypatch):
    """Sleep after reading the pool of a run (after its withdrawals), so unserialised runs overlap."""
    real = matching.pool

    def slow(program, now):
        value = real(program, now)
        time.sleep(WINDOW_SECONDS)
        return value

    monkeypatch.setattr(matching, "pool", slow)


@pytest.fixture
def overlapping_pool(monkeypatch):
    """Each run waits after reading the pool until the other has read it too, so without the
    program lock both have read before either writes, however slow the machine is."""
    real = matching.pool
    barrier = threading.Barrier(2, timeout=30)

    def meet(program, now):
        value = real(program, now)
        barrier.wait()
        return value

    monkeypatch.setattr(matching, "pool", meet)


@pytest.fixture
def crowd(program, mentor_profile, mentee_profile):
    for i in range(3):
        mentor_profile(f"mentor{i}@example.org", capacity=2)
    for i in range(5):
        mentee_profile(f"mentee{i}@example.org")


def test_two_proposal_runs_at_once_leave_one_open_batch(program, crowd, operator, slow_pool):
    results, conflicts, errors = race([lambda: matches_propose(program=program, actor=operator)] * 2)

    assert (errors, conflicts, len(results)) == ([], [], 2)
    first, second = sorted(ProposalBatch.objects.all(), key=lambda b: b.created_at)
    assert set(first.matches.values_list("status", flat=True)) == {"withdrawn"}
    assert set(second.matches.values_list("status", flat=True)) == {"proposed"}
    assert first.matches.count() == second.matches.count() == 5
    live = list(Match.objects.filter(status="proposed").values_list("mentor_id", "mentee_id"))
    assert len(live) == len(set(live)) == 5
    assert len({mentee for _, mentee in live}) == 5


def test_control_without_the_program_lock_the_runs_collide(program, crowd, operator, overlapping_pool, monkeypatch):
    monkeypatch.setattr(
        matching, "_lock_program", lambda program: Program.objects.select_related("template").get(pk=program.pk)
    )

    results, conflicts, errors = race([lambda: matches_propose(program=program, actor=operator)] * 2)

    # Neither run saw the other's proposals to withdraw: the second insert hits the one-live-pair
    # constraint (without it, every pair would be proposed twice).
    assert (len(results), conflicts) == (1, [])
    assert [type(e) for e in errors] == [IntegrityError]
    assert ProposalBatch.objects.count() == 1


def test_an_approval_racing_a_new_run_keeps_its_match(program, mentor_profile, mentee_profile, operator, slow_counts):
    mentor_profile("mira@example.org")
    mentor_profile("otto@example.org")
    mentee_profile("ada@example.org")
    mentee_profile("ben@example.org")
    proposals = list(matches_propose(program=program, actor=operator).matches.all())
    chosen = proposals[0]

    def propose_a_moment_later():
        time.sleep(WINDOW_SECONDS / 4)  # the approval holds its locks by then
        return matches_propose(program=program, actor=operator)

    results, conflicts, errors = race(
        [lambda: matches_approve(program=program, proposal_ids=[chosen.pk], actor=operator), propose_a_moment_later]
    )

    assert (errors, conflicts, len(results)) == ([], [], 2)
    chosen.refresh_from_db()
    assert chosen.status == "active"
    other = next(p for p in proposals if p.pk != chosen.pk)
    assert Match.objects.get(pk=other.pk).status == "withdrawn"
    newest = ProposalBatch.objects.order_by("-created_at").first()
    assert [u["code"] for u in newest.unmatched if u["mentee_id"] == str(chosen.mentee_id)] == ["already_matched"]
    assert not newest.matches.filter(mentee_id=chosen.mentee_id).exists()


# --- Self-acceptance and approval ---------------------------------------------------------------


def test_self_acceptance_racing_an_operators_approval_does_not_deadlock(
    make_program, mentorship_template, mentor_profile, mentee_profile, operator, monkeypatch
):
    program = make_program(mentorship_template, name="Self", config_overrides={"matching": {"self_accept": "mentor"}})
    mentor_profile("mira@example.org", in_program=program)
    mentee_profile("ada@example.org", in_program=program)
    [proposal] = matches_propose(program=program, actor=operator).matches.select_related("mentor")
    real = matching._lock_profiles

    def slow_lock_profiles(program, user_ids):
        time.sleep(WINDOW_SECONDS)
        return real(program, user_ids)

    monkeypatch.setattr(matching, "_lock_profiles", slow_lock_profiles)

    results, conflicts, errors = race(
        [
            lambda: match_respond(match=proposal, user=proposal.mentor, accept=True),
            lambda: matches_approve(program=program, proposal_ids=[proposal.pk], actor=operator),
        ]
    )

    assert errors == []
    assert (len(results), len(conflicts)) == (1, 1)
    assert Match.objects.get(pk=proposal.pk).status == "active"
