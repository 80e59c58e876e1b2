from django.urls import path

from mentorship import views

urlpatterns = [
    path("matches/", views.my_matches, name="my-matches"),
    path("matches/<uuid:match_id>/respond", views.respond, name="match-respond"),
    path("matches/<uuid:match_id>/check-in", views.check_in, name="match-check-in"),
    path("matches/<uuid:match_id>/feedback", views.feedback, name="match-feedback"),
]
