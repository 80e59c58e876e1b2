"""Source 004 section 1: coach states <-> statuses, both directions, for every value: the external
vocabulary (draft/submitted/awarded/rejected) and this platform's application statuses."""

import pytest

from applications.enums import ApplicationStatus
from coaching.enums import CoachState, ExternalStatus
from coaching.mapping import PLATFORM_STATUSES, coach_state_to_status, status_to_coach_state

STATES = [s.value for s in CoachState]

# Coach state -> external status (source 004's table).
TO_STATUS = {
    "tracked": "draft",
    "drafting": "draft",
    "review": "draft",
    "submitted": "submitted",
    "outcome_pending": "submitted",
    "won": "awarded",
    "lost": "rejected",
}

# External status -> coach state without a current state.
EXTERNAL = {"draft": "tracked", "submitted": "submitted", "awarded": "won", "rejected": "lost"}

# This platform's application status -> coach state without a current state.
PLATFORM = {
    "draft": "drafting",
    "submitted": "submitted",
    "under_review": "outcome_pending",
    "info_requested": "review",
    "waitlisted": "outcome_pending",
    "accepted": "won",
    "rejected": "lost",
    "withdrawn": "lost",
}

# With a current state: the result for every current state, where it differs from the plain mapping
# (a current state that still agrees with the status, and is not earlier, is kept).
EXTERNAL_KEPT = {
    "draft": {"drafting": "drafting", "review": "review"},
    "submitted": {"outcome_pending": "outcome_pending"},
    "awarded": {},
    "rejected": {},
}
PLATFORM_KEPT = {
    "draft": {"review": "review"},  # tracked moves on to drafting: a platform draft is being written
    "submitted": {"outcome_pending": "outcome_pending"},
    "under_review": {},
    "info_requested": {},
    "waitlisted": {},
    "accepted": {},
    "rejected": {},
    "withdrawn": {},
}


def test_tables_cover_every_value():
    assert sorted(TO_STATUS) == sorted(STATES)
    assert sorted(EXTERNAL) == sorted(ExternalStatus.values)
    assert sorted(PLATFORM) == sorted(ApplicationStatus.values)
    assert sorted(PLATFORM_STATUSES) == sorted(ApplicationStatus.values)


@pytest.mark.parametrize("state", STATES)
def test_coach_state_to_status(state):
    assert coach_state_to_status(state) == TO_STATUS[state]
    assert coach_state_to_status(CoachState(state)) == TO_STATUS[state]
    assert type(coach_state_to_status(state)) is str


@pytest.mark.parametrize("status", ExternalStatus.values)
def test_external_status_without_current(status):
    assert status_to_coach_state(status) == EXTERNAL[status]
    assert status_to_coach_state(ExternalStatus(status)) == EXTERNAL[status]


@pytest.mark.parametrize("status", ApplicationStatus.values)
def test_platform_status_without_current(status):
    assert status_to_coach_state(status, platform=True) == PLATFORM[status]
    assert status_to_coach_state(ApplicationStatus(status), platform=True) == PLATFORM[status]


@pytest.mark.parametrize("current", STATES)
@pytest.mark.parametrize("status", ExternalStatus.values)
def test_external_status_with_every_current_state(status, current):
    expected = EXTERNAL_KEPT[status].get(current, EXTERNAL[status])
    assert status_to_coach_state(status, current) == expected


@pytest.mark.parametrize("current", STATES)
@pytest.mark.parametrize("status", ApplicationStatus.values)
def test_platform_status_with_every_current_state(status, current):
    expected = PLATFORM_KEPT[status].get(current, PLATFORM[status])
    assert status_to_coach_state(status, current, platform=True) == expected


def test_kept_states_spelled_out():
    # The agreeing current state survives; one of another status group never does.
    assert status_to_coach_state("draft", "review") == "review"
    assert status_to_coach_state("draft", "drafting") == "drafting"
    assert status_to_coach_state("draft", "tracked") == "tracked"
    assert status_to_coach_state("draft", "submitted") == "tracked"
    assert status_to_coach_state("submitted", "outcome_pending") == "outcome_pending"
    assert status_to_coach_state("submitted", "review") == "submitted"
    assert status_to_coach_state("awarded", "outcome_pending") == "won"
    assert status_to_coach_state("rejected", "won") == "lost"
    # Platform: a draft moves a tracked pursuit to drafting; review after submission is outcome pending.
    assert status_to_coach_state("draft", "tracked", platform=True) == "drafting"
    assert status_to_coach_state("under_review", "submitted", platform=True) == "outcome_pending"
    assert status_to_coach_state("info_requested", "outcome_pending", platform=True) == "review"
    assert status_to_coach_state("accepted", "outcome_pending", platform=True) == "won"


@pytest.mark.parametrize("state", ["", "Won", "awarded", "draft", "pending", "WON "])
def test_unknown_coach_state_raises(state):
    with pytest.raises(ValueError, match=f"Unknown coach state '{state}'."):
        coach_state_to_status(state)


@pytest.mark.parametrize("status", ["", "Draft", "won", "accepted", "under_review", "pending"])
def test_unknown_external_status_raises(status):
    with pytest.raises(ValueError, match=f"Unknown external status '{status}'."):
        status_to_coach_state(status)


@pytest.mark.parametrize("status", ["", "awarded", "won", "Accepted", "decided"])
def test_unknown_platform_status_raises(status):
    with pytest.raises(ValueError, match=f"Unknown application status '{status}'."):
        status_to_coach_state(status, platform=True)


@pytest.mark.parametrize("platform", [False, True])
def test_unknown_current_state_raises(platform):
    with pytest.raises(ValueError, match="Unknown coach state 'finished'."):
        status_to_coach_state("submitted", "finished", platform=platform)


@pytest.mark.parametrize("state", STATES)
def test_round_trip_from_every_coach_state(state):
    # state -> status -> state (knowing the current state) gives the state back.
    assert status_to_coach_state(coach_state_to_status(state), state) == state


@pytest.mark.parametrize("status", ExternalStatus.values)
def test_round_trip_from_every_external_status(status):
    assert coach_state_to_status(status_to_coach_state(status)) == status


# A platform status seen as an external status (the platform's finer statuses fold into four).
PLATFORM_AS_EXTERNAL = {
    "draft": "draft",
    "submitted": "submitted",
    "under_review": "submitted",
    "info_requested": "draft",
    "waitlisted": "submitted",
    "accepted": "awarded",
    "rejected": "rejected",
    "withdrawn": "rejected",
}


@pytest.mark.parametrize("status", ApplicationStatus.values)
def test_platform_status_folds_into_external_status(status):
    assert coach_state_to_status(status_to_coach_state(status, platform=True)) == PLATFORM_AS_EXTERNAL[status]
