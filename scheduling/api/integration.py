"""Operator API of a session's live meeting: which provider holds it and its links."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import IsOperatorOrIntegrator
from core.errors import NotFound
from programs.models import Program
from scheduling.enums import ConferencingProvider
from scheduling.models import Session
from scheduling.services.conferencing import session_integration_set

TAGS = ["admin: sessions"]


def _session(program_id, session_id) -> Session:
    """A session of the program in the path; another program's answers 404."""
    if not Program.objects.filter(pk=program_id).exists():
        raise NotFound(f"No program with the id {program_id}.")
    session = Session.objects.filter(pk=session_id, program_id=program_id).first()
    if session is None:
        raise NotFound(f"No session with the id {session_id} in this program.")
    return session


class SessionIntegrationOutput(serializers.ModelSerializer):
    session_id = serializers.UUIDField(source="id", read_only=True)

    class Meta:
        model = Session
        fields = [
            "session_id",
            "provider",
            "join_url",
            "host_url",
            "external_meeting_id",
            "integration_status",
            "integration_error",
            "integration_attempts",
            "integration_retry_at",
        ]


class SessionIntegrationApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "SessionIntegrationUpdate"

        provider = serializers.ChoiceField(choices=ConferencingProvider.choices)
        join_url = serializers.CharField(
            required=False, allow_blank=True, trim_whitespace=True, help_text="manual only: the https join link."
        )
        host_url = serializers.CharField(
            required=False, allow_blank=True, trim_whitespace=True, help_text="manual only: the host's https link."
        )
        regenerate = serializers.BooleanField(
            required=False, default=False, help_text="Make a new meeting (jitsi, zoom) instead of keeping the current."
        )

    @extend_schema(
        operation_id="admin_session_integration_retrieve",
        description="The session's meeting: provider, links, the provider's meeting id and the state of "
        "its synchronisation (`pending` with the last error and the next try, `failed` after the last try).",
        responses={200: SessionIntegrationOutput},
        tags=TAGS,
    )
    def get(self, request, program_id, session_id):
        return Response(SessionIntegrationOutput(_session(program_id, session_id)).data)

    @extend_schema(
        operation_id="admin_session_integration_update",
        description="Create or change the session's meeting now. `jitsi`: a new unguessable room (kept if "
        "the session already has one, unless `regenerate`); `zoom`: a meeting created at Zoom, or the "
        "session's details pushed to its meeting again (a retry after a failure; `regenerate` makes a new "
        "one); `manual`: the pasted https `join_url` and optional `host_url`; `none`: no meeting. Switching "
        "providers or regenerating deletes the previous meeting at its provider (best-effort). If the "
        "provider fails, 502 with the provider's message and nothing changes. A cancelled or delivered "
        "session answers 409; a session of another program 404.",
        request=Input,
        responses={200: SessionIntegrationOutput},
        tags=TAGS,
    )
    def patch(self, request, program_id, session_id):
        session = _session(program_id, session_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        session = session_integration_set(
            session=session,
            provider=values["provider"],
            join_url=values.get("join_url"),
            host_url=values.get("host_url"),
            regenerate=values["regenerate"],
            actor=request.user,
        )
        return Response(SessionIntegrationOutput(session).data)
