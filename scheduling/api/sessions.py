"""The sessions API: operators schedule, change, cancel and deliver a program's sessions and
manage their registrations; signed-in people see their own sessions and register, queue or
cancel their place."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import django_filters
from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core import clock
from core.api.fields import OffsetDateTimeField
from core.api.filters import InstantFilter
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import NotFound, ValidationFailed
from core.middleware import valid_timezone
from programs.models import Program
from scheduling.enums import (
    ConferencingProvider,
    ConfirmationStatus,
    RegistrationSource,
    RegistrationStatus,
    SessionKind,
    SessionStatus,
)
from scheduling.models import Cohort, Registration, Session
from scheduling.selectors import (
    PAST,
    UPCOMING,
    join_link_open,
    latest_host_confirmation,
    my_sessions,
    registration_with_position,
    session_registration_summary,
    session_registrations,
    sessions_of_program,
)
from scheduling.services import (
    registration_cancel,
    registration_create,
    session_cancel,
    session_create,
    session_deliver,
    session_series_create,
    session_update,
)
from scheduling.services.sessions import MAX_SERIES

ADMIN_TAGS = ["admin: sessions"]
TAGS = ["sessions"]
ACTIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
JOIN_URL_HELP = (
    "The meeting link, shown only from 15 minutes before the start until the end of a scheduled "
    "session, to registered participants and the host; null at any other time, on the waiting list, "
    "and for cancelled or delivered sessions."
)


# --- Lookups ------------------------------------------------------------------------------------


def _program(program_id) -> Program:
    program = Program.objects.filter(pk=program_id).first()
    if program is None:
        raise NotFound(f"No program with the id {program_id}.")
    return program


def _session(program_id, session_id) -> Session:
    """A session of the program in the path (with its counts); another program's is 404."""
    _program(program_id)
    session = sessions_of_program(program_id).filter(pk=session_id).first()
    if session is None:
        raise NotFound(f"No session with the id {session_id} in this program.")
    return session


def _user(field: str, user_id):
    if user_id is None:
        return None
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationFailed(errors={field: f"No user with the id {user_id}."})
    return user


def _cohort(program: Program, cohort_id) -> Cohort | None:
    if cohort_id is None:
        return None
    cohort = Cohort.objects.filter(pk=cohort_id, program_id=program.pk).first()
    if cohort is None:
        raise ValidationFailed(errors={"cohort_id": f"No cohort with the id {cohort_id} in this program."})
    return cohort


def _public_session(session_id) -> Session:
    session = Session.objects.filter(pk=session_id).first()
    if session is None:
        raise NotFound(f"No session with the id {session_id} is open to you.")
    return session


# --- Fields and outputs -------------------------------------------------------------------------


def _local(value, zone_name: str) -> str:
    return value.astimezone(valid_timezone(zone_name) or ZoneInfo("UTC")).isoformat()


class SessionOutput(serializers.ModelSerializer):
    program_id = serializers.UUIDField(read_only=True)
    cohort_id = serializers.UUIDField(read_only=True, allow_null=True)
    host_id = serializers.UUIDField(read_only=True, allow_null=True)
    series_id = serializers.UUIDField(read_only=True, allow_null=True)
    local_starts_at = serializers.SerializerMethodField(help_text="The start in the session's time zone.")
    local_ends_at = serializers.SerializerMethodField(help_text="The end in the session's time zone.")
    registered_count = serializers.IntegerField(read_only=True, help_text="People holding a place.")
    waitlisted_count = serializers.IntegerField(read_only=True, help_text="People on the waiting list.")

    class Meta:
        model = Session
        fields = [
            "id",
            "program_id",
            "cohort_id",
            "series_id",
            "kind",
            "title",
            "description",
            "starts_at",
            "ends_at",
            "timezone",
            "local_starts_at",
            "local_ends_at",
            "capacity",
            "open_registration",
            "online",
            "location",
            "host_id",
            "provider",
            "join_url",
            "host_url",
            "external_meeting_id",
            "integration_status",
            "integration_error",
            "status",
            "sequence",
            "cancel_reason",
            "cancelled_at",
            "delivered_at",
            "attendance_skipped",
            "registered_count",
            "waitlisted_count",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_local_starts_at(self, session: Session) -> str:
        return _local(session.starts_at, session.timezone)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_local_ends_at(self, session: Session) -> str:
        return _local(session.ends_at, session.timezone)


class RegistrationSummaryOutput(serializers.Serializer):
    class Meta:
        ref_name = "SessionRegistrationSummary"

    registered_count = serializers.IntegerField()
    waitlisted_count = serializers.IntegerField()
    cancelled_count = serializers.IntegerField()
    places_left = serializers.IntegerField(allow_null=True, help_text="Null: no capacity limit.")


class HostConfirmationOutput(serializers.Serializer):
    class Meta:
        ref_name = "SessionHostConfirmation"

    status = serializers.ChoiceField(choices=ConfirmationStatus.choices)
    deadline = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class SessionDetailOutput(SessionOutput):
    registrations = RegistrationSummaryOutput(source="registration_summary", read_only=True)
    host_confirmation = HostConfirmationOutput(
        read_only=True, allow_null=True, help_text="The current host's newest confirmation request."
    )

    class Meta(SessionOutput.Meta):
        fields = [*SessionOutput.Meta.fields, "registrations", "host_confirmation"]


class SeriesOutput(serializers.Serializer):
    series_id = serializers.UUIDField()
    sessions = SessionOutput(many=True)


def _detail(program_id, session_id) -> dict:
    session = _session(program_id, session_id)
    session.registration_summary = session_registration_summary(session)
    session.host_confirmation = latest_host_confirmation(session)
    return SessionDetailOutput(session).data


# --- Sessions -----------------------------------------------------------------------------------


class SessionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SessionStatus.choices)
    kind = django_filters.ChoiceFilter(choices=SessionKind.choices)
    cohort = django_filters.UUIDFilter(field_name="cohort_id")
    host = django_filters.UUIDFilter(field_name="host_id")
    series = django_filters.UUIDFilter(field_name="series_id")
    starts_after = InstantFilter(
        field_name="starts_at", lookup_expr="gte", label="Sessions starting at or after this instant."
    )
    starts_before = InstantFilter(
        field_name="starts_at", lookup_expr="lt", label="Sessions starting before this instant."
    )

    class Meta:
        model = Session
        fields = ["status", "kind", "cohort", "host", "series", "starts_after", "starts_before"]


class RecurrenceInput(serializers.Serializer):
    class Meta:
        ref_name = "SessionRecurrence"

    frequency = serializers.ChoiceField(choices=["weekly"], default="weekly")
    interval = serializers.IntegerField(min_value=1, max_value=52, default=1, help_text="Every this many weeks.")
    count = serializers.IntegerField(min_value=1, max_value=MAX_SERIES, required=False, help_text="Sessions in all.")
    until = serializers.DateField(
        required=False, help_text="The last local date a session may fall on (inclusive), in the session's zone."
    )

    def validate(self, attrs):
        if ("count" in attrs) == ("until" in attrs):
            raise serializers.ValidationError("Give either `count` or `until`.")
        return attrs


class SessionListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = SessionOutput
    filterset_class = SessionFilter

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "SessionCreate"

        title = serializers.CharField(max_length=200)
        kind = serializers.ChoiceField(choices=SessionKind.choices)
        starts_at = OffsetDateTimeField()
        ends_at = OffsetDateTimeField()
        timezone = serializers.CharField(
            max_length=64, required=False, help_text="IANA zone the session is planned in; default: the program's."
        )
        capacity = serializers.IntegerField(
            min_value=1, max_value=100_000, required=False, allow_null=True, help_text="Null: no limit."
        )
        host_id = serializers.UUIDField(required=False, allow_null=True)
        cohort_id = serializers.UUIDField(required=False, allow_null=True)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        online = serializers.BooleanField(default=True)
        location = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
        open_registration = serializers.BooleanField(
            required=False, allow_null=True, help_text="Default: true for live events and office hours."
        )
        provider = serializers.ChoiceField(
            choices=ConferencingProvider.choices, required=False, help_text="Default: jitsi when online, else none."
        )
        recurrence = RecurrenceInput(required=False)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no path arguments
            return Session.objects.none()
        return sessions_of_program(self.kwargs["program_id"])

    @extend_schema(
        operation_id="admin_sessions_list",
        description="The program's sessions in time order, each with `registered_count` and `waitlisted_count`.",
        tags=ADMIN_TAGS,
    )
    def get(self, request, program_id, *args, **kwargs):
        _program(program_id)
        return super().get(request, program_id, *args, **kwargs)

    @extend_schema(
        operation_id="admin_sessions_create",
        description="Schedule one session, or a weekly series when `recurrence` is given "
        '(`{"frequency": "weekly", "interval": 1, "count": 10}` or `"until": "2026-06-30"`): every '
        "session of a series starts at the same local time in `timezone` (18:00 Europe/Kyiv stays "
        "18:00 Kyiv across DST changes) and lasts as long as the first. Times carry their UTC offset. "
        "A cohort session registers the cohort's active members (and later joiners). The host gets a "
        "confirmation request. An unknown `host_id` or `cohort_id` answers 400 naming it; a host who "
        "already holds an overlapping session, or a closed or archived program, answers 409 (a series "
        "is all or nothing).",
        request=Input,
        responses={
            201: PolymorphicProxySerializer(
                component_name="SessionCreated",
                serializers=[SessionOutput, SeriesOutput],
                resource_type_field_name=None,
            )
        },
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=ADMIN_TAGS,
    )
    @idempotent
    def post(self, request, program_id):
        program = _program(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["host"] = _user("host_id", fields.pop("host_id", None))
        fields["cohort"] = _cohort(program, fields.pop("cohort_id", None))
        recurrence = fields.pop("recurrence", None)
        if recurrence is None:
            session = session_create(program=program, actor=request.user, **fields)
            return Response(SessionOutput(_session(program_id, session.pk)).data, status=status.HTTP_201_CREATED)
        sessions = session_series_create(program=program, recurrence=recurrence, actor=request.user, **fields)
        series_id = sessions[0].series_id
        created = sessions_of_program(program_id).filter(series_id=series_id)
        body = {"series_id": series_id, "sessions": created}
        return Response(SeriesOutput(body).data, status=status.HTTP_201_CREATED)


class SessionDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "SessionUpdate"

        title = serializers.CharField(max_length=200)
        description = serializers.CharField(allow_blank=True)
        capacity = serializers.IntegerField(min_value=1, max_value=100_000, allow_null=True)
        location = serializers.CharField(max_length=300, allow_blank=True)
        online = serializers.BooleanField()
        open_registration = serializers.BooleanField()
        starts_at = OffsetDateTimeField(help_text="Reschedule; given alone, the session keeps its length.")
        ends_at = OffsetDateTimeField()
        timezone = serializers.CharField(max_length=64)
        host_id = serializers.UUIDField(allow_null=True)
        status = serializers.ChoiceField(
            choices=SessionStatus.choices,
            help_text="`cancelled` (with `reason`) or `delivered` (with optional `skip_attendance`); "
            "sent on its own, without field changes.",
        )
        reason = serializers.CharField(
            allow_blank=True, help_text="Required to cancel; recorded with a reschedule or delivery."
        )
        skip_attendance = serializers.BooleanField(
            help_text="With `status: delivered`: deliver although attendance is not recorded for everyone."
        )

    @extend_schema(operation_id="admin_sessions_retrieve", responses={200: SessionDetailOutput}, tags=ADMIN_TAGS)
    def get(self, request, program_id, session_id):
        return Response(_detail(program_id, session_id))

    @extend_schema(
        operation_id="admin_sessions_update",
        description="Change a scheduled session. New `starts_at`/`ends_at` reschedule it: `sequence` "
        "increases, `lesson.rescheduled` carries the previous and new window, registered and "
        "waitlisted people are told and reminders re-arm. `host_id` changes the host (409 when they "
        "hold an overlapping session) and asks them to confirm. `capacity` cannot drop below the "
        'people registered; raising it promotes the waiting list. `{"status": "cancelled", "reason": '
        "...}` cancels (everyone registered or waitlisted gets one notice; cancelling again changes "
        'nothing); `{"status": "delivered"}` marks a started session delivered, which needs '
        "attendance for every registered participant unless `skip_attendance` is true. Changing a "
        "cancelled or delivered session, or an illegal status change, answers 409.",
        request=Input,
        responses={200: SessionDetailOutput},
        tags=ADMIN_TAGS,
    )
    def patch(self, request, program_id, session_id):
        session = _session(program_id, session_id)
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        target = fields.pop("status", None)
        reason = fields.pop("reason", "")
        skip = fields.pop("skip_attendance", None)
        if target == SessionStatus.SCHEDULED:
            raise ValidationFailed(errors={"status": "Send `cancelled` or `delivered`; a session is scheduled once."})
        if target is not None and fields:
            raise ValidationFailed(
                errors={"status": f"Change the status on its own, without {', '.join(sorted(fields))}."}
            )
        if skip is not None and target != SessionStatus.DELIVERED:
            raise ValidationFailed(errors={"skip_attendance": 'Only with `"status": "delivered"`.'})
        if target == SessionStatus.CANCELLED:
            session_cancel(session=session, reason=reason, actor=request.user)
        elif target == SessionStatus.DELIVERED:
            session_deliver(session=session, actor=request.user, skip_attendance=bool(skip), reason=reason)
        elif fields:
            if "host_id" in fields:
                fields["host"] = _user("host_id", fields.pop("host_id"))
            if "starts_at" in fields and "ends_at" not in fields:
                fields["ends_at"] = fields["starts_at"] + (session.ends_at - session.starts_at)
            session_update(session=session, data=fields, actor=request.user, reason=reason)
        return Response(_detail(program_id, session_id))


# --- Registrations (operators) ------------------------------------------------------------------


class SessionRegistrationOutput(serializers.ModelSerializer):
    session_id = serializers.UUIDField(read_only=True)
    user_id = serializers.UUIDField(read_only=True)
    user_email = serializers.EmailField(source="user.email", read_only=True)
    user_name = serializers.CharField(source="user.full_name", read_only=True)
    waitlist_position = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="1 = next to get a place; null unless waitlisted."
    )

    class Meta:
        model = Registration
        fields = [
            "id",
            "session_id",
            "user_id",
            "user_email",
            "user_name",
            "status",
            "source",
            "waitlist_position",
            "registered_at",
            "waitlisted_at",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]


class RegistrationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RegistrationStatus.choices)

    class Meta:
        model = Registration
        fields = ["status"]


class SessionRegistrationListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = SessionRegistrationOutput
    filterset_class = RegistrationFilter

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "SessionRegistrationAdd"

        user_id = serializers.UUIDField()
        waitlist = serializers.BooleanField(
            default=True, help_text="Queue the person when the session is full (default); false: answer 409."
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no path arguments
            return Registration.objects.none()
        return session_registrations(self.session)

    @extend_schema(
        operation_id="admin_session_registrations_list",
        description="Registered people first, then the waiting list in order (`waitlist_position`), "
        "then cancelled registrations.",
        tags=ADMIN_TAGS,
    )
    def get(self, request, program_id, session_id, *args, **kwargs):
        self.session = _session(program_id, session_id)
        return super().get(request, program_id, session_id, *args, **kwargs)

    @extend_schema(
        operation_id="admin_session_registrations_add",
        description="Add a person to the session (source `operator`), whether or not it is open for "
        "registration: registered when a place is free, else waitlisted (or 409 with `waitlist: "
        "false`). 201 for a new place, 200 when they already hold one. An unknown user answers 400; "
        "a cancelled or delivered session, the host or an inactive user answer 409.",
        request=Input,
        responses={201: SessionRegistrationOutput, 200: SessionRegistrationOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=ADMIN_TAGS,
    )
    @idempotent
    def post(self, request, program_id, session_id):
        session = _session(program_id, session_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = _user("user_id", data.validated_data["user_id"])
        held = Registration.objects.filter(session=session, user=user, status__in=ACTIVE).exists()
        registration = registration_create(
            session=session,
            user=user,
            actor=request.user,
            source=RegistrationSource.OPERATOR,
            waitlist=data.validated_data["waitlist"],
        )
        row = session_registrations(session).get(pk=registration.pk)
        return Response(
            SessionRegistrationOutput(row).data, status=status.HTTP_200_OK if held else status.HTTP_201_CREATED
        )


# --- The participant's and host's side ----------------------------------------------------------


class MyRegistrationOutput(serializers.ModelSerializer):
    session_id = serializers.UUIDField(read_only=True)
    waitlist_position = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="1 = next to get a place; null unless waitlisted."
    )

    class Meta:
        model = Registration
        fields = [
            "id",
            "session_id",
            "status",
            "source",
            "waitlist_position",
            "registered_at",
            "waitlisted_at",
            "cancelled_at",
        ]


class MySessionRegistrationOutput(serializers.Serializer):
    class Meta:
        ref_name = "MySessionRegistration"

    id = serializers.UUIDField(source="my_registration_id")
    status = serializers.ChoiceField(
        choices=RegistrationStatus.choices,
        source="my_registration_status",
        help_text="`registered` or `waitlisted` (your cancelled places are not listed).",
    )
    waitlist_position = serializers.IntegerField(source="my_waitlist_position", allow_null=True)


class MySessionConfirmationOutput(serializers.Serializer):
    class Meta:
        ref_name = "MySessionHostConfirmation"

    status = serializers.ChoiceField(choices=ConfirmationStatus.choices, source="my_confirmation_status")
    deadline = serializers.DateTimeField(source="my_confirmation_deadline")


class MySessionOutput(serializers.ModelSerializer):
    program_id = serializers.UUIDField(read_only=True)
    cohort_id = serializers.UUIDField(read_only=True, allow_null=True)
    series_id = serializers.UUIDField(read_only=True, allow_null=True)
    role = serializers.SerializerMethodField(help_text="`host` when you run the session, else `participant`.")
    local_starts_at = serializers.SerializerMethodField(help_text="The start in the session's time zone.")
    local_ends_at = serializers.SerializerMethodField(help_text="The end in the session's time zone.")
    registered_count = serializers.IntegerField(read_only=True)
    join_url = serializers.SerializerMethodField(help_text=JOIN_URL_HELP)
    host_url = serializers.SerializerMethodField(
        help_text="For the host only, when the provider gives a separate host link; shown like `join_url`."
    )
    registration = serializers.SerializerMethodField(help_text="Your place; null when you host the session.")
    host_confirmation = serializers.SerializerMethodField(
        help_text="For the host: the newest request to confirm you will run the session (null otherwise)."
    )

    class Meta:
        model = Session
        fields = [
            "id",
            "program_id",
            "cohort_id",
            "series_id",
            "role",
            "kind",
            "title",
            "description",
            "starts_at",
            "ends_at",
            "timezone",
            "local_starts_at",
            "local_ends_at",
            "online",
            "location",
            "status",
            "sequence",
            "cancel_reason",
            "capacity",
            "registered_count",
            "join_url",
            "host_url",
            "registration",
            "host_confirmation",
        ]

    def _hosting(self, session: Session) -> bool:
        return session.host_id == self.context["user"].pk

    @extend_schema_field(serializers.ChoiceField(choices=["participant", "host"]))
    def get_role(self, session: Session) -> str:
        return "host" if self._hosting(session) else "participant"

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_local_starts_at(self, session: Session) -> str:
        return _local(session.starts_at, session.timezone)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_local_ends_at(self, session: Session) -> str:
        return _local(session.ends_at, session.timezone)

    def _link_open(self, session: Session) -> bool:
        if not join_link_open(session, self.context["now"]):
            return False
        return self._hosting(session) or session.my_registration_status == RegistrationStatus.REGISTERED

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_join_url(self, session: Session) -> str | None:
        if not self._link_open(session):
            return None
        return session.join_url or None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_host_url(self, session: Session) -> str | None:
        if not (self._hosting(session) and self._link_open(session)):
            return None
        return session.host_url or None

    @extend_schema_field(MySessionRegistrationOutput(allow_null=True))
    def get_registration(self, session: Session) -> dict | None:
        if session.my_registration_id is None:
            return None
        return MySessionRegistrationOutput(session).data

    @extend_schema_field(MySessionConfirmationOutput(allow_null=True))
    def get_host_confirmation(self, session: Session) -> dict | None:
        if not self._hosting(session) or session.my_confirmation_status is None:
            return None
        return MySessionConfirmationOutput(session).data


class MySessionsApi(ListAPIView):
    serializer_class = MySessionOutput

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "user": self.request.user, "now": self.now}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in user
            return Session.objects.none()
        return my_sessions(self.request.user, when=self.when, now=self.now)

    @extend_schema(
        operation_id="me_sessions_list",
        description="The sessions you are registered or waitlisted for (also when they were "
        "cancelled since) and the sessions you host. `when=upcoming`: not ended yet, soonest first; "
        "`when=past`: ended, latest first; without it, all in time order. `join_url`: " + JOIN_URL_HELP,
        parameters=[
            OpenApiParameter("when", OpenApiTypes.STR, enum=[UPCOMING, PAST], description="upcoming or past."),
        ],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        self.when = request.query_params.get("when") or None
        if self.when not in (None, UPCOMING, PAST):
            raise ValidationFailed(errors={"when": f"Use `{UPCOMING}` or `{PAST}`."})
        self.now = clock.now()
        return super().get(request, *args, **kwargs)


class SessionRegistrationApi(APIView):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "MySessionRegister"

        waitlist = serializers.BooleanField(
            default=True, help_text="Join the waiting list when the session is full (default); false: answer 409."
        )

    @extend_schema(
        operation_id="sessions_registration_create",
        description="Register for a session, or join its waiting list when it is full (the body shows "
        "`status` and `waitlist_position`). 201 for a new place, 200 when you already hold one. Sessions "
        "not open to you (an invitation-only session you are not invited to) answer 404; a cancelled, "
        "delivered or ended session, or a full one with `waitlist: false`, answer 409.",
        request=Input,
        responses={201: MyRegistrationOutput, 200: MyRegistrationOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, session_id):
        session = _public_session(session_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        held = Registration.objects.filter(session=session, user=request.user, status__in=ACTIVE).exists()
        registration = registration_create(
            session=session,
            user=request.user,
            actor=request.user,
            source=RegistrationSource.SELF,
            waitlist=data.validated_data["waitlist"],
        )
        return Response(
            MyRegistrationOutput(registration_with_position(registration.pk)).data,
            status=status.HTTP_200_OK if held else status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="sessions_registration_cancel",
        description="Give up your place (or leave the waiting list); the first waitlisted person moves "
        "up and is told. Answers the cancelled registration; 404 when you hold no place, 409 once the "
        "session is over, cancelled or delivered.",
        request=None,
        responses={200: MyRegistrationOutput},
        tags=TAGS,
    )
    def delete(self, request, session_id):
        registration = Registration.objects.filter(
            session_id=session_id, user_id=request.user.pk, status__in=ACTIVE
        ).first()
        if registration is None:
            raise NotFound("You hold no place at this session.")
        registration = registration_cancel(registration=registration, actor=request.user)
        return Response(MyRegistrationOutput(registration_with_position(registration.pk)).data)
