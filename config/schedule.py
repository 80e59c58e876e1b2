"""When each scheduled job runs: the whole beat schedule, in one place.

`manage.py sync_schedule` (also run after every migrate) writes it into django-celery-beat's tables;
operators can then pause an entry or change its timing in the admin, and a later sync keeps their
`enabled` choice. Each entry runs `core.run_job` with the job's name.
"""

# job name -> {"every": seconds} or {"crontab": "minute hour day_of_month month_of_year day_of_week"}
SCHEDULE: dict[str, dict] = {
    "crm_dispatch": {"every": 5},
    "notification_dispatch": {"every": 60},
    "housekeeping": {"crontab": "17 3 * * *"},
    "cohort_transitions": {"crontab": "5 * * * *"},
    "application_sla_reminders": {"crontab": "0 8 * * *"},
    "waitlist_offers": {"every": 900},
    "review_scores": {"every": 600},
    "session_reminders": {"crontab": "*/10 * * * *"},
    "conferencing_sync": {"every": 60},
    "host_confirmation_deadlines": {"every": 900},
    "mentorship_checkins": {"crontab": "0 9 * * 1"},
    "coach_momentum": {"crontab": "30 2 * * *"},
    "coach_scan": {"crontab": "20 * * * *"},
    "coach_check_ins": {"crontab": "0 10 * * *"},
    "analytics_snapshots": {"crontab": "40 0 * * *"},
}
