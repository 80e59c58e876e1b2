"""The matched people's side: their matches and proposals, the pair's check-ins, feedback,
answers to proposals (where the program lets them accept) and their milestones. Another person's
match answers 404."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import OffsetDateTimeField
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from mentorship.api.common import ME_TAGS, REASON_MAX, not_found, person_name
from mentorship.enums import MatchStatus, ProfileKind, SelfAccept
from mentorship.models import CheckIn, Feedback, Match, Milestone
from mentorship.selectors import matches_of_user
from mentorship.services import checkin_log, feedback_give, match_respond
from mentorship.services.common import self_accept

# What a person sees of a pair's explanation: the breakdown, never an operator's notes.
SHARED_EXPLANATION = ("score", "criteria", "constraints", "rule", "manual")
EXPLAINED = (MatchStatus.PROPOSED, MatchStatus.ACTIVE)


def _my_match(user: Any, match_id: Any) -> Match:
    match = matches_of_user(user).filter(pk=match_id).first()
    if match is None:
        raise not_found("match", match_id, " of yours")
    return match


def _side(match: Match, user: Any) -> str:
    return ProfileKind.MENTOR if match.mentor_id == user.pk else ProfileKind.MENTEE


# --- Matches ------------------------------------------------------------------------------------


class MyMatchOutput(serializers.ModelSerializer):
    class Meta:
        model = Match
        ref_name = "MyMentorshipMatchOutput"
        fields = [
            "id",
            "program_id",
            "program_name",
            "side",
            "partner_id",
            "partner_name",
            "status",
            "source",
            "score",
            "explanation",
            "can_respond",
            "my_accepted_at",
            "started_at",
            "ended_at",
            "end_reason",
            "created_at",
        ]

    program_id = serializers.UUIDField(read_only=True)
    program_name = serializers.CharField(source="program.name", read_only=True)
    side = serializers.SerializerMethodField(help_text="Your side of the pair: `mentor` or `mentee`.")
    partner_id = serializers.SerializerMethodField()
    partner_name = serializers.SerializerMethodField()
    score = serializers.FloatField(read_only=True, allow_null=True)
    explanation = serializers.SerializerMethodField(
        help_text="Why the pair fits (per-criterion breakdown), for proposals and active matches; null otherwise."
    )
    can_respond = serializers.SerializerMethodField(
        help_text="True when this is a proposal you may accept or decline (`POST .../response`)."
    )
    my_accepted_at = serializers.SerializerMethodField(help_text="When you accepted the proposal.")

    def _user(self):
        return self.context["request"].user

    @extend_schema_field(serializers.ChoiceField(choices=ProfileKind.choices))
    def get_side(self, match: Match) -> str:
        return _side(match, self._user())

    def _partner(self, match: Match):
        return match.mentee if _side(match, self._user()) == ProfileKind.MENTOR else match.mentor

    @extend_schema_field(serializers.UUIDField())
    def get_partner_id(self, match: Match):
        return self._partner(match).pk

    def get_partner_name(self, match: Match) -> str:
        return person_name(self._partner(match))

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_explanation(self, match: Match) -> dict | None:
        if match.status not in EXPLAINED:
            return None
        return {k: v for k, v in (match.explanation or {}).items() if k in SHARED_EXPLANATION}

    def get_can_respond(self, match: Match) -> bool:
        if match.status != MatchStatus.PROPOSED:
            return False
        side = _side(match, self._user())
        who = self_accept(match.program)
        if who == SelfAccept.NONE or (who != SelfAccept.BOTH and who != side):
            return False
        return getattr(match, f"{side}_accepted_at") is None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_my_accepted_at(self, match: Match):
        value = getattr(match, f"{_side(match, self._user())}_accepted_at")
        return serializers.DateTimeField().to_representation(value) if value else None


class MyMatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MatchStatus.choices)
    program_id = django_filters.UUIDFilter(field_name="program_id")

    class Meta:
        model = Match
        fields = ["status", "program_id"]


class MyMatchListApi(ListAPIView):
    serializer_class = MyMatchOutput
    filterset_class = MyMatchFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in user
            return Match.objects.none()
        return matches_of_user(self.request.user).order_by("-created_at", "id")

    @extend_schema(
        operation_id="me_mentorship_matches_list",
        summary="List my matches",
        description="Your matches and proposals as mentor or mentee, newest first (filters `status`, "
        "`program_id`), each with your partner, the program, the score and, for proposals and active "
        "matches, why the pair fits. Withdrawn proposals are not listed.",
        tags=ME_TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyMatchDetailApi(APIView):
    @extend_schema(
        operation_id="me_mentorship_matches_retrieve",
        summary="Read one of my matches",
        description="One of your matches; another person's answers 404.",
        responses={200: MyMatchOutput},
        tags=ME_TAGS,
    )
    def get(self, request, match_id):
        return Response(MyMatchOutput(_my_match(request.user, match_id), context={"request": request}).data)


class MyMatchResponseApi(APIView):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "MyMentorshipMatchResponse"

        accept = serializers.BooleanField(help_text="true: accept the proposal; false: decline it.")
        reason = serializers.CharField(max_length=REASON_MAX, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="me_mentorship_matches_respond",
        summary="Accept or decline a proposal",
        description="Where the program lets mentors and/or mentees accept proposals themselves "
        "(config `matching.self_accept`), accept (the match becomes active once everyone needed has "
        "accepted) or decline (the proposal is rejected with your reason). Programs where operators "
        "approve answer 403; a proposal already decided answers 409; another person's match 404.",
        request=Input,
        responses={200: MyMatchOutput},
        tags=ME_TAGS,
    )
    def post(self, request, match_id):
        match = _my_match(request.user, match_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        match_respond(match=match, user=request.user, **data.validated_data)
        return Response(MyMatchOutput(_my_match(request.user, match_id), context={"request": request}).data)


# --- Check-ins ----------------------------------------------------------------------------------


class CheckInOutput(serializers.ModelSerializer):
    class Meta:
        model = CheckIn
        ref_name = "MentorshipCheckInOutput"
        fields = ["id", "match_id", "by_id", "by_name", "mood", "notes", "at", "source", "created_at"]

    match_id = serializers.UUIDField(read_only=True)
    by_id = serializers.UUIDField(read_only=True)
    by_name = serializers.SerializerMethodField()

    def get_by_name(self, checkin: CheckIn) -> str:
        return person_name(checkin.by)


class MyCheckInListCreateApi(ListAPIView):
    serializer_class = CheckInOutput

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "MentorshipCheckInLog"

        mood = serializers.IntegerField(min_value=1, max_value=5, help_text="1 (bad) to 5 (great).")
        notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
        at = OffsetDateTimeField(
            required=False, allow_null=True, default=None, help_text="When; default now, not in the future."
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in user
            return CheckIn.objects.none()
        return CheckIn.objects.filter(match=self.match).select_related("by").order_by("-at", "id")

    @extend_schema(
        operation_id="me_mentorship_checkins_list",
        summary="List the pair's check-ins",
        description="Check-ins of one of your matches by either of you, latest first.",
        tags=ME_TAGS,
    )
    def get(self, request, match_id, *args, **kwargs):
        self.match = _my_match(request.user, match_id)
        return super().get(request, match_id, *args, **kwargs)

    @extend_schema(
        operation_id="me_mentorship_checkins_create",
        summary="Log a check-in",
        description="Log how the match goes (`mood` 1-5, optional `notes`). Only active matches take "
        "check-ins (409 otherwise); it clears your pair's `checkin_due` flag.",
        request=Input,
        responses={201: CheckInOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=ME_TAGS,
    )
    @idempotent
    def post(self, request, match_id):
        match = _my_match(request.user, match_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        checkin = checkin_log(
            match=match,
            by=request.user,
            mood=fields["mood"],
            notes=fields["notes"],
            at=fields["at"],
            actor=request.user,
        )
        row = CheckIn.objects.select_related("by").get(pk=checkin.pk)
        return Response(CheckInOutput(row).data, status=status.HTTP_201_CREATED)


# --- Feedback -----------------------------------------------------------------------------------


class FeedbackOutput(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        ref_name = "MentorshipFeedbackOutput"
        fields = ["id", "match_id", "author_id", "rating", "comment", "at", "created_at", "updated_at"]

    match_id = serializers.UUIDField(read_only=True)
    author_id = serializers.UUIDField(read_only=True)


class MyFeedbackApi(APIView):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "MentorshipFeedbackGive"

        rating = serializers.IntegerField(min_value=1, max_value=5, help_text="1 to 5.")
        comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="me_mentorship_feedback_give",
        summary="Rate a match",
        description="Rate one of your active or ended matches (`rating` 1-5, optional `comment`): 201 "
        "the first time, 200 when it replaces your earlier feedback. A proposal answers 409.",
        request=Input,
        responses={201: FeedbackOutput, 200: FeedbackOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=ME_TAGS,
    )
    @idempotent
    def post(self, request, match_id):
        match = _my_match(request.user, match_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        feedback, created = feedback_give(match=match, author=request.user, **data.validated_data)
        return Response(
            FeedbackOutput(feedback).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# --- Milestones ---------------------------------------------------------------------------------


class MyMilestoneOutput(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        ref_name = "MyMentorshipMilestoneOutput"
        fields = ["id", "program_id", "program_name", "key", "title", "reached_at"]

    program_id = serializers.UUIDField(read_only=True)
    program_name = serializers.CharField(source="program.name", read_only=True)


class MyMilestoneFilter(django_filters.FilterSet):
    program_id = django_filters.UUIDFilter(field_name="program_id")

    class Meta:
        model = Milestone
        fields = ["program_id"]


class MyMilestoneListApi(ListAPIView):
    serializer_class = MyMilestoneOutput
    filterset_class = MyMilestoneFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in user
            return Milestone.objects.none()
        return (
            Milestone.objects.filter(user_id=self.request.user.pk)
            .select_related("program")
            .order_by("-reached_at", "id")
        )

    @extend_schema(
        operation_id="me_mentorship_milestones_list",
        summary="List my milestones",
        description="The milestones you reached, latest first (filter `program_id`).",
        tags=ME_TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
