from django.urls import path

from mentorship.api import matches as matches_api
from mentorship.api import me as me_api
from mentorship.api import milestones as milestones_api
from mentorship.api import profiles as profiles_api

PROGRAM = "admin/programs/<uuid:program_id>/mentorship"
MY_MATCH = "me/matches/<uuid:match_id>"

urlpatterns = [
    path("admin/mentorship/profiles", profiles_api.ProfileListUpsertApi.as_view(), name="api-mentorship-profiles"),
    path(
        "admin/mentorship/profiles/<uuid:profile_id>",
        profiles_api.ProfileDetailApi.as_view(),
        name="api-mentorship-profile",
    ),
    path(f"{PROGRAM}/matches", matches_api.MatchListCreateApi.as_view(), name="api-mentorship-matches"),
    path(f"{PROGRAM}/matches/<uuid:match_id>", matches_api.MatchDetailApi.as_view(), name="api-mentorship-match"),
    path(f"{PROGRAM}/batches", matches_api.ProposalBatchListApi.as_view(), name="api-mentorship-batches"),
    path(
        f"{PROGRAM}/batches/<uuid:batch_id>",
        matches_api.ProposalBatchDetailApi.as_view(),
        name="api-mentorship-batch",
    ),
    path(f"{PROGRAM}/milestones", milestones_api.MilestoneListCreateApi.as_view(), name="api-mentorship-milestones"),
    path("me/matches", me_api.MyMatchListApi.as_view(), name="api-me-matches"),
    path(MY_MATCH, me_api.MyMatchDetailApi.as_view(), name="api-me-match"),
    path(f"{MY_MATCH}/checkins", me_api.MyCheckInListCreateApi.as_view(), name="api-me-match-checkins"),
    path(f"{MY_MATCH}/feedback", me_api.MyFeedbackApi.as_view(), name="api-me-match-feedback"),
    path(f"{MY_MATCH}/response", me_api.MyMatchResponseApi.as_view(), name="api-me-match-response"),
    path("me/milestones", me_api.MyMilestoneListApi.as_view(), name="api-me-milestones"),
]
