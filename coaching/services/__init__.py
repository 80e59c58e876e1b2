"""Write use-cases of the coach: pursuits (pursuits.py: external ones, the sync with
applications, confirmations), the snooze and check-in tasks (tasks.py)."""

from coaching.services.pursuits import (
    pursuit_confirm,
    pursuit_create_external,
    pursuit_sync_from_application,
    pursuit_update,
    trust_of,
)
from coaching.services.tasks import checkin_complete, checkin_dismiss, snooze_set

__all__ = [
    "checkin_complete",
    "checkin_dismiss",
    "pursuit_confirm",
    "pursuit_create_external",
    "pursuit_sync_from_application",
    "pursuit_update",
    "snooze_set",
    "trust_of",
]
