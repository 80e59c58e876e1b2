"""Source 004 section 1: coach states <-> application statuses, as pure functions.

External opportunities speak `draft`/`submitted`/`awarded`/`rejected`; this platform's
applications speak their own statuses (`applications.enums.ApplicationStatus`). Several coach
states share one status (tracked, drafting and review are all `draft`), so the reverse mapping
takes the current coach state and keeps it when it still agrees with the status."""

from __future__ import annotations

from coaching.enums import CoachState, ExternalStatus

S = CoachState

_TO_EXTERNAL = {
    S.TRACKED: ExternalStatus.DRAFT,
    S.DRAFTING: ExternalStatus.DRAFT,
    S.REVIEW: ExternalStatus.DRAFT,
    S.SUBMITTED: ExternalStatus.SUBMITTED,
    S.OUTCOME_PENDING: ExternalStatus.SUBMITTED,
    S.WON: ExternalStatus.AWARDED,
    S.LOST: ExternalStatus.REJECTED,
}

# This platform's application statuses (applications.enums.ApplicationStatus values).
_PLATFORM_TO_STATE = {
    "draft": S.DRAFTING,
    "submitted": S.SUBMITTED,
    "under_review": S.OUTCOME_PENDING,
    "info_requested": S.REVIEW,
    "waitlisted": S.OUTCOME_PENDING,
    "accepted": S.WON,
    "rejected": S.LOST,
    "withdrawn": S.LOST,
}

_EXTERNAL_TO_STATE = {
    ExternalStatus.DRAFT: S.TRACKED,
    ExternalStatus.SUBMITTED: S.SUBMITTED,
    ExternalStatus.AWARDED: S.WON,
    ExternalStatus.REJECTED: S.LOST,
}

PLATFORM_STATUSES = tuple(_PLATFORM_TO_STATE)


def coach_state_to_status(state: str) -> str:
    """The external status a coach state is stored as (source 004's table)."""
    try:
        return str(_TO_EXTERNAL[CoachState(state)])
    except ValueError as exc:
        raise ValueError(f"Unknown coach state '{state}'.") from exc


def status_to_coach_state(status: str, current: str | None = None, *, platform: bool = False) -> str:
    """The coach state for an external status (`platform=False`) or one of this platform's
    application statuses (`platform=True`). With the current state given, a state that still
    maps to the status is kept (drafting and review stay so while the status is draft;
    outcome_pending stays so while submitted)."""
    table = _PLATFORM_TO_STATE if platform else _EXTERNAL_TO_STATE
    if status not in table:
        kind = "application" if platform else "external"
        raise ValueError(f"Unknown {kind} status '{status}'.")
    target = CoachState(table[status])
    if current is not None and current not in S.values:
        raise ValueError(f"Unknown coach state '{current}'.")
    if current is not None:
        current_state = CoachState(current)
        same_group = _TO_EXTERNAL[current_state] == _TO_EXTERNAL[target]
        if same_group and current_state not in (S.WON, S.LOST) and target not in (S.WON, S.LOST):
            # A later state of the same group is kept (review after drafting, outcome pending after submitted).
            order = list(S.values)
            if order.index(current_state) >= order.index(target):
                return str(current_state)
    return str(target)
