from django.urls import path

from coaching import views

urlpatterns = [
    path("coach/", views.game_plan_page, name="game-plan"),
    path("coach/pursuits/", views.pursuit_add, name="coach-pursuit-add"),
    path("coach/pursuits/<uuid:pursuit_id>/confirm", views.pursuit_confirm_view, name="coach-pursuit-confirm"),
    path("coach/check-ins/<uuid:task_id>/answer", views.check_in_answer, name="coach-check-in"),
    path("coach/snooze", views.snooze, name="coach-snooze"),
]
