from django.urls import path

from scheduling import views

urlpatterns = [
    path("sessions/", views.my_sessions, name="my-sessions"),
    path("sessions/<uuid:session_id>.ics", views.session_file, name="session-ics"),
    path("sessions/<uuid:session_id>/register", views.register, name="session-register"),
    path("sessions/<uuid:session_id>/cancel", views.cancel, name="session-cancel"),
    path("sessions/<uuid:session_id>/check-in", views.check_in, name="session-check-in"),
    path(
        "sessions/confirmations/<uuid:confirmation_id>",
        views.confirmation_decide,
        name="session-confirmation",
    ),
    path("sessions/calendar", views.feed_issue, name="calendar-feed-issue"),
    path("sessions/calendar/revoke", views.feed_revoke, name="calendar-feed-revoke"),
    path("calendar/<slug:token>.ics", views.calendar_feed, name="calendar-feed"),
    path("programs/<slug:program_key>/calendar.ics", views.program_feed, name="program-calendar"),
]
