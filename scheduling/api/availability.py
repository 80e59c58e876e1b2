"""Availability windows of a program's people, and slot matching (search and booking)."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import OffsetDateTimeField
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import NotFound, ValidationFailed
from programs.models import Program
from scheduling import hooks
from scheduling.enums import AvailabilityKind, SessionKind
from scheduling.models import AvailabilityWindow, Registration, Session
from scheduling.services.availability import MAX_BATCH, availability_create, availability_delete
from scheduling.services.matching import MAX_PARTICIPANTS, Candidate, find_slots, slot_book

TAGS_AVAILABILITY = ["admin: availability"]
TAGS_MATCHING = ["admin: scheduling"]


def _program(program_id) -> Program:
    program = Program.objects.filter(pk=program_id).first()
    if program is None:
        raise NotFound(f"No program with the id {program_id}.")
    return program


# --- Windows ------------------------------------------------------------------------------------


class AvailabilityWindowOutput(serializers.ModelSerializer):
    program_id = serializers.UUIDField(read_only=True, allow_null=True)
    user_id = serializers.UUIDField(source="owner_id", read_only=True)

    class Meta:
        model = AvailabilityWindow
        fields = [
            "id",
            "program_id",
            "user_id",
            "kind",
            "weekday",
            "start_time",
            "end_time",
            "timezone",
            "valid_from",
            "valid_until",
            "starts_at",
            "ends_at",
            "created_at",
        ]


class AvailabilityWindowInput(serializers.Serializer):
    class Meta:
        ref_name = "AvailabilityWindowInput"

    user_id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=AvailabilityKind.choices)
    weekday = serializers.IntegerField(
        required=False, allow_null=True, help_text="Weekly: 0 = Monday ... 6 = Sunday, in `timezone`."
    )
    start_time = serializers.TimeField(required=False, allow_null=True, help_text="Weekly: local start (HH:MM).")
    end_time = serializers.TimeField(required=False, allow_null=True, help_text="Weekly: local end, after the start.")
    timezone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="IANA zone; default the person's profile zone, else the program's.",
    )
    valid_from = serializers.DateField(required=False, allow_null=True, help_text="Weekly: first local date.")
    valid_until = serializers.DateField(
        required=False, allow_null=True, help_text="Weekly: last local date (inclusive); empty: open."
    )
    starts_at = OffsetDateTimeField(required=False, allow_null=True, help_text="One-off: start, with its offset.")
    ends_at = OffsetDateTimeField(required=False, allow_null=True, help_text="One-off: end, with its offset.")


class AvailabilityWindowFilter(django_filters.FilterSet):
    user_id = django_filters.UUIDFilter(field_name="owner_id")
    kind = django_filters.ChoiceFilter(choices=AvailabilityKind.choices)

    class Meta:
        model = AvailabilityWindow
        fields = ["user_id", "kind"]


def _owners(items: list[dict]) -> list[dict]:
    """The items with `owner` resolved from `user_id` in one query; unknown ids are 400s."""
    ids = {item["user_id"] for item in items}
    users = get_user_model().objects.in_bulk(ids)
    errors = {
        f"windows/{index}/user_id": f"No user with the id {item['user_id']}."
        for index, item in enumerate(items)
        if item["user_id"] not in users
    }
    if errors:
        raise ValidationFailed(errors=errors)
    resolved = []
    for item in items:
        data = {k: v for k, v in item.items() if k != "user_id"}
        resolved.append({**data, "owner": users[item["user_id"]]})
    return resolved


class AvailabilityListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = AvailabilityWindowOutput
    filterset_class = AvailabilityWindowFilter

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "AvailabilityCreate"

        windows = AvailabilityWindowInput(many=True, max_length=MAX_BATCH)

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "AvailabilityCreated"

        windows = AvailabilityWindowOutput(many=True)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no path arguments
            return AvailabilityWindow.objects.none()
        return AvailabilityWindow.objects.filter(program_id=self.kwargs["program_id"]).order_by(
            "owner_id", "kind", "weekday", "start_time", "starts_at", "id"
        )

    @extend_schema(
        operation_id="admin_availability_list",
        description="The program's availability windows, by person; filter with `user_id` and `kind`.",
        tags=TAGS_AVAILABILITY,
    )
    def get(self, request, program_id, *args, **kwargs):
        _program(program_id)
        return super().get(request, program_id, *args, **kwargs)

    @extend_schema(
        operation_id="admin_availability_create",
        description="Create availability windows for one or many people, all or none. A `weekly` window "
        "is a `weekday` (0 = Monday), a local `start_time`-`end_time` on that day in `timezone` (IANA), "
        "from `valid_from` until `valid_until` (local dates, inclusive; empty: open); it follows the "
        "wall clock across DST changes (a time in the spring gap is the moment the clocks jump; a "
        "repeated time in autumn is its first occurrence). A `one_off` window is `starts_at`-`ends_at` "
        "with offsets. A window may not overlap another of the same person in this program (or of no "
        "program), nor another of the request; touching windows are fine. Every error names the item: "
        "`windows/<index>/<field>` (an unknown user: `windows/<index>/user_id`).",
        request=Input,
        responses={201: Output},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS_AVAILABILITY,
    )
    @idempotent
    def post(self, request, program_id):
        program = _program(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        items = _owners(data.validated_data["windows"])
        windows = availability_create(items=items, program=program, actor=request.user, path="windows")
        return Response({"windows": AvailabilityWindowOutput(windows, many=True).data}, status=status.HTTP_201_CREATED)


class AvailabilityDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(
        operation_id="admin_availability_delete",
        description="Delete a window of the program. Sessions already booked in it stay.",
        request=None,
        responses={204: None},
        tags=TAGS_AVAILABILITY,
    )
    def delete(self, request, program_id, window_id):
        _program(program_id)
        window = AvailabilityWindow.objects.filter(pk=window_id, program_id=program_id).first()
        if window is None:
            raise NotFound(f"No availability window with the id {window_id} in this program.")
        availability_delete(window=window, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Matching -----------------------------------------------------------------------------------


class PreferredHoursInput(serializers.Serializer):
    class Meta:
        ref_name = "PreferredHours"

    start = serializers.TimeField(help_text="Local time (HH:MM).")
    end = serializers.TimeField(help_text="Local time (HH:MM), after the start.")
    timezone = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=64,
        help_text="IANA zone for everyone; empty: each participant's own zone.",
    )


class CandidateOutput(serializers.Serializer):
    class Meta:
        ref_name = "SlotCandidate"

    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    score = serializers.FloatField(help_text="0-1, higher is better; orders the candidates.")
    preferred_participants = serializers.IntegerField(
        source="preferred", help_text="Participants for whom the slot lies inside their preferred hours."
    )
    slack_minutes = serializers.IntegerField(
        help_text="Free minutes to the nearest session of any participant (up to 30)."
    )
    local_times = serializers.DictField(
        child=serializers.CharField(), help_text="The start in each participant's zone, by user id."
    )


class MatchedRegistrationOutput(serializers.ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Registration
        ref_name = "MatchedSessionRegistration"
        fields = ["user_id", "status", "source"]


class MatchedSessionOutput(serializers.ModelSerializer):
    program_id = serializers.UUIDField(read_only=True)
    host_id = serializers.UUIDField(read_only=True, allow_null=True)
    registrations = MatchedRegistrationOutput(many=True, read_only=True)

    class Meta:
        model = Session
        ref_name = "MatchedSession"
        fields = [
            "id",
            "program_id",
            "kind",
            "title",
            "starts_at",
            "ends_at",
            "timezone",
            "host_id",
            "status",
            "join_url",
            "registrations",
        ]


def _participants(program: Program, participant_ids: list, pair_ids: list) -> list:
    """Participants in the order given: the named users, then the pairs' people."""
    users = get_user_model().objects.in_bulk(set(participant_ids))
    errors: dict[str, str] = {}
    people = []
    for index, user_id in enumerate(participant_ids):
        user = users.get(user_id)
        if user is None:
            errors[f"participant_ids/{index}"] = f"No user with the id {user_id}."
        elif not user.is_active:
            errors[f"participant_ids/{index}"] = f"{user} is not an active user."
        else:
            people.append(user)
    for index, pair_id in enumerate(pair_ids):
        if not hooks.pair_resolvers_registered():
            errors[f"pair_ids/{index}"] = (
                f"Mentorship pairs are not known to scheduling yet, so the pair {pair_id} cannot be "
                "resolved; name its people in `participant_ids`."
            )
            continue
        pair = hooks.resolve_pair(program, pair_id)
        if pair is None:
            errors[f"pair_ids/{index}"] = f"No mentorship pair with the id {pair_id} in this program."
        else:
            people.extend(pair)
    if errors:
        raise ValidationFailed(errors=errors)
    return people


def _host(people: list, host_id):
    if host_id is None:
        return None
    host = next((person for person in people if person.pk == host_id), None)
    if host is None:
        raise ValidationFailed(errors={"host_id": "The host is one of the participants (or of the pairs)."})
    return host


def _candidates(candidates: list[Candidate]) -> list[dict]:
    return CandidateOutput(candidates, many=True).data


class SlotMatchApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "SlotMatch"

        participant_ids = serializers.ListField(
            child=serializers.UUIDField(), required=False, default=list, max_length=MAX_PARTICIPANTS
        )
        pair_ids = serializers.ListField(
            child=serializers.UUIDField(),
            required=False,
            default=list,
            max_length=MAX_PARTICIPANTS,
            help_text="Existing mentorship pairs: both people take part.",
        )
        duration_minutes = serializers.IntegerField()
        range_start = OffsetDateTimeField()
        range_end = OffsetDateTimeField()
        min_notice_minutes = serializers.IntegerField(required=False, default=0)
        preferred_hours = PreferredHoursInput(required=False, allow_null=True, default=None)
        step_minutes = serializers.IntegerField(
            required=False, default=15, help_text="Slots start on these boundaries: 5, 10, 15, 20, 30 or 60."
        )
        limit = serializers.IntegerField(required=False, default=10, help_text="Candidates returned, 1-100.")
        commit = serializers.BooleanField(required=False, default=False, help_text="Book the best (or chosen) slot.")
        slot_starts_at = OffsetDateTimeField(
            required=False, allow_null=True, default=None, help_text="With `commit`: the slot to book."
        )
        title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
        kind = serializers.ChoiceField(choices=SessionKind.choices, required=False, default=SessionKind.MENTORING)
        host_id = serializers.UUIDField(
            required=False, allow_null=True, default=None, help_text="A participant; default the first."
        )

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "SlotMatchResult"

        candidates = CandidateOutput(many=True)

    class BookedOutput(serializers.Serializer):
        class Meta:
            ref_name = "SlotMatchBooked"

        session = MatchedSessionOutput()
        candidates = CandidateOutput(many=True)

    @extend_schema(
        operation_id="admin_scheduling_match",
        description="Find when every required participant (`participant_ids`, and both people of each "
        "of `pair_ids`) is available (their windows) and has no session (hosted, registered or "
        "waitlisted), for `duration_minutes`, between `range_start` and `range_end`, starting no "
        "sooner than `min_notice_minutes` from now, on `step_minutes` boundaries. Candidates are "
        "ranked: most participants inside their `preferred_hours` (in its `timezone`, or each "
        "participant's own zone) first; then the sooner slot, where a slot with less than 30 free "
        "minutes to another session of a participant counts 4 minutes later per missing minute; then "
        "the earlier start. `score` orders them the same way. No free slot answers 200 with no "
        "candidates. With `commit: true` the best slot (or `slot_starts_at`) is booked as a session "
        "hosted by `host_id` (default the first participant), the others registered; 201. No free "
        "slot or a chosen slot that is not free for everyone answers 409 and books nothing.",
        request=Input,
        responses={200: Output, 201: BookedOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS_MATCHING,
    )
    @idempotent
    def post(self, request, program_id):
        program = _program(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        people = _participants(program, values["participant_ids"], values["pair_ids"])
        preferred = values["preferred_hours"]
        if preferred is not None:
            preferred = {**preferred, "timezone": preferred.get("timezone") or None}
        search = {
            "program": program,
            "participants": people,
            "duration_minutes": values["duration_minutes"],
            "range_start": values["range_start"],
            "range_end": values["range_end"],
            "min_notice_minutes": values["min_notice_minutes"],
            "preferred_hours": preferred,
            "step_minutes": values["step_minutes"],
            "limit": values["limit"],
        }
        if not values["commit"]:
            if values["slot_starts_at"] is not None:
                raise ValidationFailed(errors={"slot_starts_at": "Choose a slot to book with `commit: true`."})
            return Response({"candidates": _candidates(find_slots(**search))})
        booking = slot_book(
            **search,
            title=values["title"],
            kind=values["kind"],
            host=_host(people, values["host_id"]),
            slot_starts_at=values["slot_starts_at"],
            actor=request.user,
        )
        session = Session.objects.prefetch_related("registrations").get(pk=booking.session.pk)
        return Response(
            {"session": MatchedSessionOutput(session).data, "candidates": _candidates(booking.candidates)},
            status=status.HTTP_201_CREATED,
        )
