"""Write use-cases of scheduling, one module per concern:

- cohorts.py: cohorts and their members (capacity-safe placement, moves, completion);
- sessions.py: sessions and series (host without overlaps, reschedule, cancel, deliver, host change);
- registrations.py: registrations and waitlists (capacity-safe, promotion), cohort members included;
- attendance.py: attendance records (operator upsert, self check-in) and the completion rule;
- availability.py / matching.py: availability windows and slot matching;
- conferencing.py: meetings at the conferencing provider;
- reminders.py: session reminders, exactly once per (session, user, offset, schedule);
- confirmations.py: host confirmation requests;
- calendar.py: calendar feed tokens.
"""

from scheduling.services.attendance import attendance_record, attendance_self_check_in
from scheduling.services.availability import availability_create, availability_delete
from scheduling.services.cohorts import (
    COHORT_MEMBER_TRANSITIONS,
    COHORT_TRANSITIONS,
    COMPLETION_REASON,
    CohortCompletion,
    cohort_complete,
    cohort_create,
    cohort_member_add,
    cohort_member_move,
    cohort_member_remove,
    cohort_set_status,
    cohort_update,
)
from scheduling.services.confirmations import host_confirmation_decide, host_confirmations_expire
from scheduling.services.matching import find_slots, slot_book
from scheduling.services.registrations import registration_cancel, registration_create
from scheduling.services.sessions import (
    SESSION_TRANSITIONS,
    session_cancel,
    session_create,
    session_deliver,
    session_series_create,
    session_update,
)

__all__ = [
    "attendance_record",
    "attendance_self_check_in",
    "availability_create",
    "availability_delete",
    "find_slots",
    "slot_book",
    "host_confirmation_decide",
    "host_confirmations_expire",
    "COHORT_MEMBER_TRANSITIONS",
    "COHORT_TRANSITIONS",
    "COMPLETION_REASON",
    "CohortCompletion",
    "cohort_complete",
    "cohort_create",
    "cohort_member_add",
    "cohort_member_move",
    "cohort_member_remove",
    "cohort_set_status",
    "cohort_update",
    "SESSION_TRANSITIONS",
    "registration_cancel",
    "registration_create",
    "session_cancel",
    "session_create",
    "session_deliver",
    "session_series_create",
    "session_update",
]
