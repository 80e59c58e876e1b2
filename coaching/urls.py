from django.urls import path

from coaching import api

PURSUIT = "coach/pursuits/<uuid:pursuit_id>"

urlpatterns = [
    path("coach/pursuits", api.PursuitListCreateApi.as_view(), name="api-coach-pursuits"),
    path(PURSUIT, api.PursuitDetailApi.as_view(), name="api-coach-pursuit"),
    path(f"{PURSUIT}/confirm", api.PursuitConfirmApi.as_view(), name="api-coach-pursuit-confirm"),
    path("coach/snooze", api.SnoozeApi.as_view(), name="api-coach-snooze"),
    path(
        "coach/check-ins/<uuid:check_in_id>/complete",
        api.CheckInCompleteApi.as_view(),
        name="api-coach-check-in-complete",
    ),
    path(
        "coach/check-ins/<uuid:check_in_id>/dismiss", api.CheckInDismissApi.as_view(), name="api-coach-check-in-dismiss"
    ),
    path("coach/game-plan", api.GamePlanApi.as_view(), name="api-coach-game-plan"),
]
