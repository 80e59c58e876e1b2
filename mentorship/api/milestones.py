"""Milestones of a program's people: operators and integrators record and list them."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from core.api.fields import OffsetDateTimeField
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import ValidationFailed
from mentorship.api.common import ADMIN_TAGS, person_name, program_or_404, users_by_id
from mentorship.models import Milestone
from mentorship.services import milestone_reach


def milestones_of_program(program_id):
    return Milestone.objects.filter(program_id=program_id).select_related("user").order_by("-reached_at", "id")


class MilestoneOutput(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        ref_name = "MentorshipMilestoneOutput"
        fields = ["id", "user_id", "user_name", "program_id", "key", "title", "reached_at", "source", "created_at"]

    user_id = serializers.UUIDField(read_only=True)
    user_name = serializers.SerializerMethodField()
    program_id = serializers.UUIDField(read_only=True)

    def get_user_name(self, milestone: Milestone) -> str:
        return person_name(milestone.user)


class MilestoneFilter(django_filters.FilterSet):
    user_id = django_filters.UUIDFilter(field_name="user_id")
    key = django_filters.CharFilter()

    class Meta:
        model = Milestone
        fields = ["user_id", "key"]


class MilestoneListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = MilestoneOutput
    filterset_class = MilestoneFilter

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "MentorshipMilestoneReach"

        user_id = serializers.UUIDField()
        key = serializers.CharField(max_length=80, help_text="Letters, digits, '-' and '_', e.g. `first-session`.")
        title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        reached_at = OffsetDateTimeField(
            required=False, allow_null=True, default=None, help_text="Default: now; not in the future."
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no path arguments
            return Milestone.objects.none()
        return milestones_of_program(self.kwargs["program_id"])

    @extend_schema(
        operation_id="admin_mentorship_milestones_list",
        summary="List a program's milestones",
        description="Milestones reached in the program, latest first (filters `user_id`, `key`).",
        tags=ADMIN_TAGS,
    )
    def get(self, request, program_id, *args, **kwargs):
        program_or_404(program_id)
        return super().get(request, program_id, *args, **kwargs)

    @extend_schema(
        operation_id="admin_mentorship_milestones_create",
        summary="Record a milestone",
        description="Record that a person reached a milestone in the program: 201 with the new "
        "milestone, or 200 with the one recorded before (each key counts once per person and "
        "program; the first `reached_at` stays). An unknown `user_id`, a malformed `key` or a "
        "`reached_at` in the future answer 400.",
        request=Input,
        responses={201: MilestoneOutput, 200: MilestoneOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=ADMIN_TAGS,
    )
    @idempotent
    def post(self, request, program_id):
        program = program_or_404(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        errors: dict[str, str] = {}
        users = users_by_id({"user_id": fields["user_id"]}, errors)
        if errors:
            raise ValidationFailed(errors=errors)
        milestone, created = milestone_reach(
            user=users["user_id"],
            program=program,
            key=fields["key"],
            title=fields["title"],
            at=fields["reached_at"],
            actor=request.user,
        )
        return Response(
            MilestoneOutput(milestones_of_program(program_id).get(pk=milestone.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
