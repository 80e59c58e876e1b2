"""The applicant's API: read a program's form, apply, follow and change one's application."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from applications.api.serializers import FieldDefinition, MyApplicationOutput, TrackOutput
from applications.selectors import my_application, open_offer, timeline
from applications.services import (
    application_edit,
    application_start,
    application_submit,
    application_withdraw,
    offer_respond,
    window_error,
)
from applications.services.applying import _can_edit
from applications.services.common import current_form
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.errors import NotFound, ValidationFailed
from programs.models import ProgramTrack
from programs.selectors import program_catalog

TAGS = ["applications"]


def _program(program_id):
    program = program_catalog().filter(pk=program_id).first()
    if program is None:
        raise NotFound(f"No open program with the id {program_id}.")
    return program


def _track(program, track_id):
    if track_id is None:
        return None
    track = ProgramTrack.objects.filter(pk=track_id, program=program, active=True).first()
    if track is None:
        raise ValidationFailed(errors={"track_id": "Not an open track of this program."})
    return track


def render_mine(application) -> dict:
    application.open_offer = open_offer(application)
    application.timeline = timeline(application)
    application.can_edit = _can_edit(application)
    return MyApplicationOutput(application).data


class ApplicationFormOutput(serializers.Serializer):
    program_id = serializers.UUIDField()
    version = serializers.IntegerField()
    fields = FieldDefinition(many=True)
    tracks = TrackOutput(many=True)
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    accepting = serializers.BooleanField()


class ApplicationFormApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="programs_application_form",
        description="The program's current application form, its tracks and whether it takes applications now.",
        responses={200: ApplicationFormOutput},
        tags=TAGS,
        auth=[],
    )
    def get(self, request, program_id):
        program = _program(program_id)
        form = current_form(program)
        tracks = ProgramTrack.objects.filter(program=program, active=True).order_by("position", "name")
        return Response(
            ApplicationFormOutput(
                {
                    "program_id": program.pk,
                    "version": form.version,
                    "fields": form.fields,
                    "tracks": tracks,
                    "opens_at": program.opens_at,
                    "closes_at": program.closes_at,
                    "accepting": window_error(program) is None,
                }
            ).data
        )


class ApplyApi(APIView):
    class Input(serializers.Serializer):
        answers = serializers.JSONField(required=False, default=dict)
        track_id = serializers.UUIDField(required=False, allow_null=True)
        submit = serializers.BooleanField(default=False)
        excluded_reviewer_emails = serializers.ListField(child=serializers.EmailField(), required=False, max_length=20)

        class Meta:
            ref_name = "ApplicationStart"

    @extend_schema(
        operation_id="programs_applications_create",
        description="Start your application (a draft, or `submit: true` to submit it at once). Answers "
        "are checked against the form (400 with one message per field, under `answers/<key>`); "
        "submitting outside the application window answers 409; one live application per program.",
        request=Input,
        responses={201: MyApplicationOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, program_id):
        program = _program(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        application = application_start(
            applicant=request.user,
            program=program,
            answers=fields["answers"],
            track=_track(program, fields.get("track_id")),
            submit=fields["submit"],
            excluded_reviewer_emails=fields.get("excluded_reviewer_emails"),
        )
        return Response(render_mine(application), status=status.HTTP_201_CREATED)


class MyApplicationApi(APIView):
    class Input(serializers.Serializer):
        answers = serializers.JSONField(required=False)
        track_id = serializers.UUIDField(required=False, allow_null=True)
        excluded_reviewer_emails = serializers.ListField(child=serializers.EmailField(), required=False, max_length=20)
        submit = serializers.BooleanField(required=False)
        action = serializers.ChoiceField(
            choices=["submit", "withdraw", "accept_offer", "decline_offer"], required=False
        )
        reason = serializers.CharField(required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "ApplicationChange"

    def _mine(self, request, program_id):
        program = _program(program_id)
        application = my_application(program, request.user)
        if application is None:
            raise NotFound("You have no application to this program.")
        return application

    @extend_schema(operation_id="programs_applications_me", responses={200: MyApplicationOutput}, tags=TAGS)
    def get(self, request, program_id):
        return Response(render_mine(self._mine(request, program_id)))

    @extend_schema(
        operation_id="programs_applications_me_update",
        description="Change answers or the track (drafts, applications sent back for more information, "
        "and submitted ones where the program allows edits until the deadline); `submit: true` or "
        "`action: submit` submits (or resubmits after a request for more information); `action: "
        "withdraw` withdraws until a decision, or declines a place after acceptance; "
        "`accept_offer` / `decline_offer` answer an offered place.",
        request=Input,
        responses={200: MyApplicationOutput},
        tags=TAGS,
    )
    def patch(self, request, program_id):
        application = self._mine(request, program_id)
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        action = fields.get("action") or ("submit" if fields.get("submit") else None)
        edits = {k: fields[k] for k in ("answers", "excluded_reviewer_emails") if k in fields}
        if "track_id" in fields:
            edits["track"] = _track(application.program, fields["track_id"])
        # All or nothing: edits are not kept when the action that comes with them fails.
        with transaction.atomic():
            if edits:
                application = application_edit(application=application, actor=request.user, **edits)
            if action == "submit":
                application = application_submit(application=application, actor=request.user)
            elif action == "withdraw":
                application = application_withdraw(
                    application=application, actor=request.user, reason=fields.get("reason", "")
                )
            elif action in ("accept_offer", "decline_offer"):
                application = offer_respond(
                    application=application, accept=action == "accept_offer", actor=request.user
                )
        application = my_application(application.program, request.user)
        return Response(render_mine(application))
