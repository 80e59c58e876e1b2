"""Write use-cases of notifications.

- `notify` (sending.py) renders a registered kind per channel and records one row per channel:
  queued, or suppressed with its reason (inactive user, opted out, e-mail off, rate limited). A
  dedupe key makes it exactly-once; a row lock on the user's preferences serialises the
  rate-limit check.
- `notification_deliver` and `notifications_dispatch_due` (delivery.py) deliver queued rows that
  are due, each claimed by one conditional UPDATE (a lease), with retries and backoff;
  `notification_retry` re-queues a failed one for an operator.
- The inbox's read marks (inbox.py), the user's preferences (preferences.py) and rate-limit
  policies as audited data (rate_limits.py).
"""

from notifications.services.delivery import (
    NOTIFICATION_TRANSITIONS,
    notification_deliver,
    notification_retry,
    notifications_dispatch_due,
    retry_delay,
)
from notifications.services.inbox import notification_mark_read, notifications_mark_all_read
from notifications.services.preferences import notification_preferences_update
from notifications.services.rate_limits import rate_limit_policy_delete, rate_limit_policy_save
from notifications.services.sending import notify, notify_many, quiet_hours_end

__all__ = [
    "NOTIFICATION_TRANSITIONS",
    "notification_deliver",
    "notification_mark_read",
    "notification_preferences_update",
    "notification_retry",
    "notifications_dispatch_due",
    "notifications_mark_all_read",
    "notify",
    "notify_many",
    "quiet_hours_end",
    "rate_limit_policy_delete",
    "rate_limit_policy_save",
    "retry_delay",
]
