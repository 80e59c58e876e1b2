"""The attendance API: operators read and record a session's attendance (an idempotent upsert)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import NotFound
from scheduling.enums import AttendanceStatus
from scheduling.models import Attendance, Session
from scheduling.services import attendance_record
from scheduling.services.attendance import MAX_RECORDS

TAGS = ["admin: sessions"]


def _session(program_id, session_id) -> Session:
    session = Session.objects.filter(pk=session_id, program_id=program_id).first()
    if session is None:
        raise NotFound(f"No session with the id {session_id} in the program {program_id}.")
    return session


class AttendanceRecordOutput(serializers.ModelSerializer):
    class Meta:
        model = Attendance
        ref_name = "AttendanceRecord"
        fields = [
            "id",
            "session_id",
            "user_id",
            "status",
            "minutes_attended",
            "source",
            "recorded_by_id",
            "checked_in_at",
            "created_at",
            "updated_at",
        ]

    session_id = serializers.UUIDField(read_only=True)
    user_id = serializers.UUIDField(read_only=True)
    recorded_by_id = serializers.UUIDField(read_only=True, allow_null=True)


class AttendanceListOutput(serializers.Serializer):
    class Meta:
        ref_name = "SessionAttendance"

    records = AttendanceRecordOutput(many=True)


class AttendanceRecordInput(serializers.Serializer):
    class Meta:
        ref_name = "AttendanceRecordInput"

    user_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)
    minutes_attended = serializers.IntegerField(
        min_value=0, required=False, allow_null=True, default=None, help_text="0 up to the session's length."
    )


def _all_records(session: Session) -> dict:
    rows = Attendance.objects.filter(session_id=session.pk).order_by("created_at", "id")
    return AttendanceListOutput({"records": rows}).data


class SessionAttendanceApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "SessionAttendanceRecord"

        records = AttendanceRecordInput(many=True, allow_empty=False, max_length=MAX_RECORDS)

    @extend_schema(
        operation_id="admin_session_attendance_list",
        description="Every attendance record of the session (operators', self check-ins, the provider's).",
        responses={200: AttendanceListOutput},
        tags=TAGS,
    )
    def get(self, request, program_id, session_id):
        return Response(_all_records(_session(program_id, session_id)))

    @extend_schema(
        operation_id="admin_session_attendance_record",
        description="Record attendance of registered participants: one record per person, created or "
        "updated (sending the same records again changes nothing). Answers every record of the "
        "session. Unknown users and people who are not registered (waitlisted, cancelled, the host) "
        "answer 400 naming each under `records/<i>/user_id`; `minutes_attended` is 0 up to the "
        "session's length. A cancelled session, or one that has not started yet, answers 409. "
        "Each created or changed record emits `lesson.attended`.",
        request=Input,
        responses={200: AttendanceListOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, program_id, session_id):
        session = _session(program_id, session_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        attendance_record(session=session, records=data.validated_data["records"], actor=request.user)
        return Response(_all_records(session))
