"""Mentor and mentee profiles: operators and integrators create, update and list them."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import ValidationFailed
from mentorship.api.common import ADMIN_TAGS, not_found, person_name
from mentorship.enums import ProfileKind
from mentorship.models import Profile
from mentorship.services import profile_upsert
from mentorship.services.profiles import MAX_ITEM_LENGTH, MAX_ITEMS
from programs.models import Program

# The fields of a profile a request may set (only those sent change on an update).
PROFILE_FIELDS = (
    "capacity",
    "skills",
    "languages",
    "timezone",
    "goals",
    "industries",
    "avoid_user_ids",
    "bio",
    "preferences",
    "active",
)


def profile_list():
    return Profile.objects.select_related("user").order_by("created_at", "id")


class ProfileOutput(serializers.ModelSerializer):
    class Meta:
        model = Profile
        ref_name = "MentorshipProfileOutput"
        fields = [
            "id",
            "user_id",
            "user_name",
            "program_id",
            "kind",
            "capacity",
            "skills",
            "languages",
            "timezone",
            "goals",
            "industries",
            "avoid_user_ids",
            "bio",
            "preferences",
            "active",
            "created_at",
            "updated_at",
        ]

    user_id = serializers.UUIDField(read_only=True)
    user_name = serializers.SerializerMethodField(help_text="The person's full name, or e-mail without one.")
    program_id = serializers.UUIDField(read_only=True)
    skills = serializers.ListField(child=serializers.CharField())
    languages = serializers.ListField(child=serializers.CharField())
    goals = serializers.ListField(child=serializers.CharField())
    industries = serializers.ListField(child=serializers.CharField())
    avoid_user_ids = serializers.ListField(child=serializers.UUIDField())
    preferences = serializers.DictField()

    def get_user_name(self, profile: Profile) -> str:
        return person_name(profile.user)


def _texts(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=MAX_ITEM_LENGTH),
        max_length=MAX_ITEMS,
        required=False,
        help_text=help_text,
    )


class ProfileFilter(django_filters.FilterSet):
    program_id = django_filters.UUIDFilter(field_name="program_id")
    user_id = django_filters.UUIDFilter(field_name="user_id")
    kind = django_filters.ChoiceFilter(choices=ProfileKind.choices)
    active = django_filters.BooleanFilter()

    class Meta:
        model = Profile
        fields = ["program_id", "user_id", "kind", "active"]


class ProfileListUpsertApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = ProfileOutput
    filterset_class = ProfileFilter

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "MentorshipProfileUpsert"

        user_id = serializers.UUIDField()
        program_id = serializers.UUIDField()
        kind = serializers.ChoiceField(choices=ProfileKind.choices, help_text="`mentor` (gives) or `mentee`.")
        capacity = serializers.IntegerField(
            min_value=0,
            max_value=50,
            required=False,
            help_text="Mentors: most mentees at a time, up to the program's `max_mentees_per_mentor` "
            "(default 1). Leave it out for a mentee.",
        )
        skills = _texts("Mentors: skills offered; mentees: skills wanted.")
        languages = _texts("Languages spoken, ISO 639-1 codes (kept in lower case).")
        timezone = serializers.CharField(
            max_length=64, required=False, help_text="IANA zone; default: the person's, else the program's."
        )
        goals = _texts("Mentors: goals they help with; mentees: their goals.")
        industries = _texts("Industries worked in or aimed at.")
        avoid_user_ids = serializers.ListField(
            child=serializers.UUIDField(),
            max_length=500,
            required=False,
            help_text="People never to be paired with (each an existing user).",
        )
        bio = serializers.CharField(max_length=5000, required=False, allow_blank=True)
        preferences = serializers.DictField(required=False, help_text="Free-form preferences (shown to operators).")
        active = serializers.BooleanField(required=False, help_text="Inactive profiles are left out of matching.")

    def get_queryset(self):
        return profile_list()

    @extend_schema(
        operation_id="admin_mentorship_profiles_list",
        summary="List mentor and mentee profiles",
        description="Profiles of every program, oldest first (filters `program_id`, `user_id`, `kind`, `active`).",
        tags=ADMIN_TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="admin_mentorship_profiles_upsert",
        summary="Create or update a profile",
        description="Create the person's profile on one side (`kind`) of a program that supports "
        "matching (201), or update the fields sent on the existing one (200; fields left out keep "
        "their values). An unknown `user_id`, `program_id` or avoided user, a program without "
        "matching, a capacity above the program's `max_mentees_per_mentor` or an unknown time zone "
        "answer 400 naming the field. Changes are audited.",
        request=Input,
        responses={201: ProfileOutput, 200: ProfileOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=ADMIN_TAGS,
    )
    @idempotent
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        errors: dict[str, str] = {}
        user = get_user_model().objects.filter(pk=fields["user_id"]).first()
        program = Program.objects.select_related("template").filter(pk=fields["program_id"]).first()
        if user is None:
            errors["user_id"] = f"No user with the id {fields['user_id']}."
        if program is None:
            errors["program_id"] = f"No program with the id {fields['program_id']}."
        if errors:
            raise ValidationFailed(errors=errors)
        values = {name: fields[name] for name in PROFILE_FIELDS if name in fields}
        profile, created = profile_upsert(
            program=program, user=user, kind=fields["kind"], data=values, actor=request.user
        )
        return Response(
            ProfileOutput(profile_list().get(pk=profile.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ProfileDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(
        operation_id="admin_mentorship_profiles_retrieve",
        summary="Read a profile",
        responses={200: ProfileOutput},
        tags=ADMIN_TAGS,
    )
    def get(self, request, profile_id):
        profile = profile_list().filter(pk=profile_id).first()
        if profile is None:
            raise not_found("profile", profile_id)
        return Response(ProfileOutput(profile).data)
