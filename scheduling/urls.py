from django.urls import path

from scheduling.api import attendance as attendance_api
from scheduling.api import availability as availability_api
from scheduling.api import calendar as calendar_api
from scheduling.api import cohorts as api
from scheduling.api import confirmations as confirmations_api
from scheduling.api import integration as integration_api
from scheduling.api import reminders as reminders_api
from scheduling.api import sessions as sessions_api

COHORTS = "admin/programs/<uuid:program_id>/cohorts"
SESSIONS = "admin/programs/<uuid:program_id>/sessions"

urlpatterns = [
    path(
        "admin/programs/<uuid:program_id>/sessions/<uuid:session_id>/attendance",
        attendance_api.SessionAttendanceApi.as_view(),
        name="api-session-attendance",
    ),
    path(
        "me/host-confirmations",
        confirmations_api.MyHostConfirmationListApi.as_view(),
        name="api-me-host-confirmations",
    ),
    path(
        "me/host-confirmations/<uuid:confirmation_id>",
        confirmations_api.MyHostConfirmationDecideApi.as_view(),
        name="api-me-host-confirmation",
    ),
    path("me/sessions", sessions_api.MySessionsApi.as_view(), name="api-me-sessions"),
    path(
        "sessions/<uuid:session_id>/registration",
        sessions_api.SessionRegistrationApi.as_view(),
        name="api-session-registration",
    ),
    path(SESSIONS, sessions_api.SessionListCreateApi.as_view(), name="api-sessions"),
    path(f"{SESSIONS}/<uuid:session_id>", sessions_api.SessionDetailApi.as_view(), name="api-session"),
    path(
        f"{SESSIONS}/<uuid:session_id>/registrations",
        sessions_api.SessionRegistrationListCreateApi.as_view(),
        name="api-session-registrations",
    ),
    path("me/calendar", calendar_api.MyCalendarApi.as_view(), name="api-me-calendar"),
    path(
        "admin/programs/<uuid:program_id>/availability",
        availability_api.AvailabilityListCreateApi.as_view(),
        name="api-availability",
    ),
    path(
        "admin/programs/<uuid:program_id>/availability/<uuid:window_id>",
        availability_api.AvailabilityDetailApi.as_view(),
        name="api-availability-window",
    ),
    path(
        "admin/programs/<uuid:program_id>/scheduling/match",
        availability_api.SlotMatchApi.as_view(),
        name="api-scheduling-match",
    ),
    path(COHORTS, api.CohortListCreateApi.as_view(), name="api-cohorts"),
    path(f"{COHORTS}/<uuid:cohort_id>", api.CohortDetailApi.as_view(), name="api-cohort"),
    path(f"{COHORTS}/<uuid:cohort_id>/members", api.CohortMemberListCreateApi.as_view(), name="api-cohort-members"),
    path(
        f"{COHORTS}/<uuid:cohort_id>/members/<uuid:member_id>",
        api.CohortMemberDetailApi.as_view(),
        name="api-cohort-member",
    ),
    path(
        f"{COHORTS}/<uuid:cohort_id>/members/<uuid:member_id>/move",
        api.CohortMemberMoveApi.as_view(),
        name="api-cohort-member-move",
    ),
    path(
        "admin/programs/<uuid:program_id>/sessions/<uuid:session_id>/reminders/dispatch",
        reminders_api.SessionReminderDispatchApi.as_view(),
        name="api-session-reminders-dispatch",
    ),
    path(
        "admin/programs/<uuid:program_id>/sessions/<uuid:session_id>/integration",
        integration_api.SessionIntegrationApi.as_view(),
        name="api-session-integration",
    ),
]
