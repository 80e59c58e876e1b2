"""Operators' on-demand dispatch of a session's reminders."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import NotFound
from programs.models import Program
from scheduling.models import Session
from scheduling.services.reminders import session_reminders_dispatch

TAGS = ["admin: sessions"]


def _session(program_id, session_id) -> Session:
    """A session of the program in the path; another program's is 404."""
    if not Program.objects.filter(pk=program_id).exists():
        raise NotFound(f"No program with the id {program_id}.")
    session = Session.objects.filter(pk=session_id, program_id=program_id).first()
    if session is None:
        raise NotFound(f"No session with the id {session_id} in this program.")
    return session


class ReminderDispatchOutput(serializers.Serializer):
    sent = serializers.IntegerField(help_text="Reminders sent by this request.")
    already_sent = serializers.IntegerField(
        help_text="Recipients (the host and registered participants) who already had the dispatched offset's reminder."
    )
    offsets = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The offset dispatched, in hours before the start (empty when none was due).",
    )

    class Meta:
        ref_name = "SessionReminderDispatchResult"


class SessionReminderDispatchApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        force = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Send the next offset's reminders now when nothing is due (or all due ones went out).",
        )

        class Meta:
            ref_name = "SessionReminderDispatch"

    @extend_schema(
        operation_id="admin_session_reminders_dispatch",
        description="Send the session's reminders that are due now, as the `session_reminders` job would: "
        "the current offset (the smallest of the program's `reminders.session_hours_before` whose time has "
        "come; 24 and 1 hours by default) to the host and every registered participant who does not have "
        "it yet for the session's current schedule. With `force: true` and nothing left to send for the "
        "current offset, the next offset's reminders go out ahead of time (the job will not send them "
        "again). Each reminder goes out at most once, whoever sends it. 409 for a cancelled or delivered "
        "session, or one that has started.",
        request=Input,
        responses={200: ReminderDispatchOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, program_id, session_id):
        session = _session(program_id, session_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        result = session_reminders_dispatch(session=session, force=data.validated_data["force"], actor=request.user)
        body = {"sent": result.sent, "already_sent": result.already_sent, "offsets": result.offsets}
        return Response(ReminderDispatchOutput(body).data)
