from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import NotFound, ValidationFailed
from enrollments.models import Enrollment
from programs.models import Program, ProgramTrack
from scheduling.enums import CohortMemberStatus, CohortStatus
from scheduling.models import Cohort, CohortMember
from scheduling.selectors import cohort_member_list, cohorts_of_program
from scheduling.services import (
    cohort_create,
    cohort_member_add,
    cohort_member_move,
    cohort_member_remove,
    cohort_update,
)

TAGS = ["admin: cohorts"]


def _program(program_id) -> Program:
    program = Program.objects.filter(pk=program_id).first()
    if program is None:
        raise NotFound(f"No program with the id {program_id}.")
    return program


def _cohort(program_id, cohort_id) -> Cohort:
    """A cohort of the program in the path (with `active_members`); another program's is 404."""
    _program(program_id)
    cohort = cohorts_of_program(program_id).filter(pk=cohort_id).first()
    if cohort is None:
        raise NotFound(f"No cohort with the id {cohort_id} in this program.")
    return cohort


def _member(cohort: Cohort, member_id) -> CohortMember:
    member = cohort_member_list(cohort).filter(pk=member_id).first()
    if member is None:
        raise NotFound(f"No member with the id {member_id} in this cohort.")
    return member


def _track(track_id):
    if track_id is None:
        return None
    track = ProgramTrack.objects.filter(pk=track_id).first()
    if track is None:
        raise ValidationFailed(errors={"track_id": f"No track with the id {track_id}."})
    return track


def _cohort_fields(validated: dict) -> dict:
    data = dict(validated)
    if "track_id" in data:
        data["track"] = _track(data.pop("track_id"))
    return data


# --- Cohorts ------------------------------------------------------------------------------------


class CohortOutput(serializers.ModelSerializer):
    program_id = serializers.UUIDField(read_only=True)
    track_id = serializers.UUIDField(read_only=True, allow_null=True)
    active_members = serializers.IntegerField(read_only=True, help_text="Members holding a place now.")

    class Meta:
        model = Cohort
        fields = [
            "id",
            "program_id",
            "track_id",
            "name",
            "starts_on",
            "ends_on",
            "capacity",
            "status",
            "active_members",
            "created_at",
            "updated_at",
        ]


class CohortFieldsInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    track_id = serializers.UUIDField(required=False, allow_null=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    capacity = serializers.IntegerField(min_value=1, max_value=100_000)


class CohortFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CohortStatus.choices)
    track = django_filters.UUIDFilter(field_name="track_id")

    class Meta:
        model = Cohort
        fields = ["status", "track"]


class CohortListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = CohortOutput
    filterset_class = CohortFilter

    class Input(CohortFieldsInput):
        class Meta:
            ref_name = "CohortCreate"

        status = serializers.ChoiceField(
            choices=[CohortStatus.PLANNED, CohortStatus.ACTIVE], default=CohortStatus.PLANNED
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no path arguments
            return Cohort.objects.none()
        return cohorts_of_program(self.kwargs["program_id"])

    @extend_schema(operation_id="admin_cohorts_list", tags=TAGS)
    def get(self, request, program_id, *args, **kwargs):
        _program(program_id)
        return super().get(request, program_id, *args, **kwargs)

    @extend_schema(
        operation_id="admin_cohorts_create",
        description="Form a cohort of the program, `planned` (default) or `active`. `track_id` is an "
        "active track of the same program; `ends_on` is not before `starts_on`; dates are days in the "
        "program's time zone. The daily `cohort_transitions` job starts planned cohorts on their start "
        "date and completes active ones after their end date.",
        request=Input,
        responses={201: CohortOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, program_id):
        program = _program(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        cohort = cohort_create(program=program, actor=request.user, **_cohort_fields(data.validated_data))
        return Response(CohortOutput(_cohort(program_id, cohort.pk)).data, status=status.HTTP_201_CREATED)


class CohortDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(CohortFieldsInput):
        class Meta:
            ref_name = "CohortUpdate"

        status = serializers.ChoiceField(choices=CohortStatus.choices, required=False)
        reason = serializers.CharField(required=False, allow_blank=True)

    @extend_schema(operation_id="admin_cohorts_retrieve", responses={200: CohortOutput}, tags=TAGS)
    def get(self, request, program_id, cohort_id):
        return Response(CohortOutput(_cohort(program_id, cohort_id)).data)

    @extend_schema(
        operation_id="admin_cohorts_update",
        description="Change a cohort; `status` moves it planned -> active | cancelled, active -> "
        "completed | cancelled (409 when illegal). Completing settles the active members (completed, "
        "with their enrollments); cancelling drops them (their enrollments stay active). `capacity` "
        "cannot drop below the active members (409). A completed or cancelled cohort only changes its name.",
        request=Input,
        responses={200: CohortOutput},
        tags=TAGS,
    )
    def patch(self, request, program_id, cohort_id):
        cohort = _cohort(program_id, cohort_id)
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = _cohort_fields(data.validated_data)
        reason = fields.pop("reason", "")
        cohort_update(cohort=cohort, data=fields, actor=request.user, reason=reason)
        return Response(CohortOutput(_cohort(program_id, cohort_id)).data)


# --- Members ------------------------------------------------------------------------------------


class CohortMemberOutput(serializers.ModelSerializer):
    cohort_id = serializers.UUIDField(read_only=True)
    enrollment_id = serializers.UUIDField(read_only=True)
    user_id = serializers.UUIDField(source="enrollment.user_id", read_only=True)

    class Meta:
        model = CohortMember
        fields = ["id", "cohort_id", "enrollment_id", "user_id", "status", "joined_at", "left_at", "reason"]


class CohortMemberFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CohortMemberStatus.choices)

    class Meta:
        model = CohortMember
        fields = ["status"]


def _member_output(member: CohortMember) -> dict:
    return CohortMemberOutput(CohortMember.objects.select_related("enrollment").get(pk=member.pk)).data


class CohortMemberListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = CohortMemberOutput
    filterset_class = CohortMemberFilter

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "CohortMemberAdd"

        enrollment_id = serializers.UUIDField()
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no path arguments
            return CohortMember.objects.none()
        return cohort_member_list(self.cohort)

    @extend_schema(operation_id="admin_cohort_members_list", tags=TAGS)
    def get(self, request, program_id, cohort_id, *args, **kwargs):
        self.cohort = _cohort(program_id, cohort_id)
        return super().get(request, program_id, cohort_id, *args, **kwargs)

    @extend_schema(
        operation_id="admin_cohort_members_add",
        description="Place an active enrollment of the program in a planned or active cohort. A full "
        "cohort, a completed or cancelled one, an enrollment that is not active, or one already an "
        "active member of a cohort of the program (move it instead) answer 409; an enrollment of "
        "another program answers 400.",
        request=Input,
        responses={201: CohortMemberOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, program_id, cohort_id):
        cohort = _cohort(program_id, cohort_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment_id = data.validated_data["enrollment_id"]
        enrollment = Enrollment.objects.filter(pk=enrollment_id).first()
        if enrollment is None:
            raise ValidationFailed(errors={"enrollment_id": f"No enrollment with the id {enrollment_id}."})
        member = cohort_member_add(
            cohort=cohort, enrollment=enrollment, actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(_member_output(member), status=status.HTTP_201_CREATED)


class CohortMemberDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(operation_id="admin_cohort_members_retrieve", responses={200: CohortMemberOutput}, tags=TAGS)
    def get(self, request, program_id, cohort_id, member_id):
        return Response(CohortMemberOutput(_member(_cohort(program_id, cohort_id), member_id)).data)

    @extend_schema(
        operation_id="admin_cohort_members_remove",
        description="Take the member out of the cohort: the membership becomes `dropped` (kept, with "
        "`left_at`) and the enrollment stays active. The reason comes from the `reason` query "
        'parameter or a JSON body `{"reason": ...}`. Removing a dropped member changes nothing; a '
        "completed membership is final (409).",
        parameters=[OpenApiParameter("reason", OpenApiTypes.STR, description="Recorded in the audit trail.")],
        request=None,
        responses={200: CohortMemberOutput},
        tags=TAGS,
    )
    def delete(self, request, program_id, cohort_id, member_id):
        member = _member(_cohort(program_id, cohort_id), member_id)
        body = request.data if isinstance(request.data, dict) else {}
        reason = body.get("reason", request.query_params.get("reason", ""))
        if not isinstance(reason, str):
            raise ValidationFailed(errors={"reason": "A reason is a string."})
        member = cohort_member_remove(member=member, actor=request.user, reason=reason.strip())
        return Response(_member_output(member))


class CohortMemberMoveApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "CohortMemberMove"

        cohort_id = serializers.UUIDField()
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="admin_cohort_members_move",
        description="Move an active member to another cohort of the same program in one step: the "
        "membership here becomes `dropped` and the enrollment is placed in the target cohort, whose "
        "membership is returned. A full, completed or cancelled target answers 409 and nothing changes.",
        request=Input,
        responses={201: CohortMemberOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, program_id, cohort_id, member_id):
        member = _member(_cohort(program_id, cohort_id), member_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        target_id = data.validated_data["cohort_id"]
        target = Cohort.objects.filter(pk=target_id, program_id=program_id).first()
        if target is None:
            raise ValidationFailed(errors={"cohort_id": f"No cohort with the id {target_id} in this program."})
        moved = cohort_member_move(
            member=member, to_cohort=target, actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(_member_output(moved), status=status.HTTP_201_CREATED)
