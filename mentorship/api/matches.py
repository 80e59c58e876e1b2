"""Proposals and matches of a program, for operators and integrators: run the optimal matcher,
approve or reject its proposals, pair two people by hand, list, read and end matches, and read the
proposal batches with their scores and the mentees left unmatched."""

from __future__ import annotations

import uuid
from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Count
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import OffsetDateTimeField
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import ValidationFailed
from mentorship.api.common import (
    ADMIN_TAGS,
    REASON_MAX,
    not_found,
    person_name,
    program_or_404,
    users_by_id,
)
from mentorship.enums import EndReason, MatchSource, MatchStatus
from mentorship.models import Match, ProposalBatch
from mentorship.selectors import matches_for_program
from mentorship.services import match_create_manual, match_end, matches_approve, matches_propose, matches_reject

PROPOSE, APPROVE, REJECT, MANUAL = "propose", "approve", "reject", "manual"
MODES = [PROPOSE, APPROVE, REJECT, MANUAL]
MAX_IDS = 5000


# --- Lookups ------------------------------------------------------------------------------------


def _match(program_id: Any, match_id: Any) -> Match:
    program_or_404(program_id)
    match = matches_for_program(program_id).filter(pk=match_id).first()
    if match is None:
        raise not_found("match", match_id, " in this program")
    return match


def _batch(program_id: Any, batch_id: Any) -> ProposalBatch:
    program_or_404(program_id)
    batch = ProposalBatch.objects.filter(pk=batch_id, program_id=program_id).first()
    if batch is None:
        raise not_found("proposal batch", batch_id, " in this program")
    return batch


# --- Outputs ------------------------------------------------------------------------------------


class MatchOutput(serializers.ModelSerializer):
    class Meta:
        model = Match
        ref_name = "MentorshipMatchOutput"
        fields = [
            "id",
            "program_id",
            "mentor_id",
            "mentor_name",
            "mentee_id",
            "mentee_name",
            "status",
            "source",
            "batch_id",
            "score",
            "explanation",
            "reason",
            "end_reason",
            "mentor_accepted_at",
            "mentee_accepted_at",
            "decided_by",
            "started_at",
            "ended_at",
            "created_at",
            "updated_at",
        ]

    program_id = serializers.UUIDField(read_only=True)
    mentor_id = serializers.UUIDField(read_only=True)
    mentor_name = serializers.SerializerMethodField()
    mentee_id = serializers.UUIDField(read_only=True)
    mentee_name = serializers.SerializerMethodField()
    batch_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="The proposal run it came from.")
    score = serializers.FloatField(read_only=True, allow_null=True, help_text="0 to 1; null when not scored.")
    explanation = serializers.DictField(
        read_only=True, help_text="Per-criterion weight, sub-score and a sentence; overrides of manual matches."
    )
    decided_by = serializers.UUIDField(
        source="decided_by_id", read_only=True, allow_null=True, help_text="Who approved or rejected it."
    )

    def get_mentor_name(self, match: Match) -> str:
        return person_name(match.mentor)

    def get_mentee_name(self, match: Match) -> str:
        return person_name(match.mentee)


class MatchesOutput(serializers.Serializer):
    class Meta:
        ref_name = "MentorshipMatchesOutput"

    matches = MatchOutput(many=True)


class ProposalOutput(serializers.ModelSerializer):
    class Meta:
        model = Match
        ref_name = "MentorshipProposalOutput"
        fields = ["id", "mentor_id", "mentor_name", "mentee_id", "mentee_name", "status", "score", "explanation"]

    mentor_id = serializers.UUIDField(read_only=True)
    mentor_name = serializers.SerializerMethodField()
    mentee_id = serializers.UUIDField(read_only=True)
    mentee_name = serializers.SerializerMethodField()
    score = serializers.FloatField(read_only=True, allow_null=True)
    explanation = serializers.DictField(read_only=True)

    def get_mentor_name(self, match: Match) -> str:
        return person_name(match.mentor)

    def get_mentee_name(self, match: Match) -> str:
        return person_name(match.mentee)


class UnmatchedOutput(serializers.Serializer):
    class Meta:
        ref_name = "MentorshipUnmatchedOutput"

    mentee_id = serializers.UUIDField()
    mentee_name = serializers.CharField()
    code = serializers.CharField(
        help_text="`already_matched`, `no_capacity`, `no_language`, `no_timezone`, `no_exclusions`, "
        "`below_min_score` or `capacity_taken`."
    )
    reason = serializers.CharField(help_text="Why no mentor was proposed, in a sentence.")
    best_mentor_id = serializers.UUIDField(allow_null=True, help_text="The best-scoring mentor who passes the rules.")
    best_score = serializers.FloatField(allow_null=True)


class ProposalBatchOutput(serializers.Serializer):
    class Meta:
        ref_name = "MentorshipProposalBatchOutput"

    id = serializers.UUIDField()
    program_id = serializers.UUIDField()
    created_by = serializers.UUIDField(allow_null=True)
    settings = serializers.DictField(help_text="The weights, rules and pool sizes of the run.")
    total_score = serializers.FloatField(help_text="The sum of the proposals' scores (the optimum).")
    greedy_score = serializers.FloatField(help_text="What a greedy best-pair-first assignment would reach.")
    solve_ms = serializers.IntegerField()
    proposals = ProposalOutput(many=True, help_text="The proposals of this run, with their status now.")
    unmatched = UnmatchedOutput(many=True)
    created_at = serializers.DateTimeField()


class ProposalRunOutput(ProposalBatchOutput):
    class Meta:
        ref_name = "MentorshipProposalRunOutput"

    batch_id = serializers.UUIDField(help_text="The same as `id`.")


def batch_body(batch: ProposalBatch) -> dict[str, Any]:
    """A batch with its proposals (best first) and its unmatched mentees, named (two queries)."""
    proposals = list(batch.matches.select_related("mentor", "mentee").order_by("-score", "id"))
    rows = [row for row in batch.unmatched if isinstance(row, dict)]
    ids = [pk for pk in (_uuid(row.get("mentee_id")) for row in rows) if pk is not None]
    names = {str(pk): user for pk, user in get_user_model().objects.in_bulk(ids).items()}
    unmatched = [
        {
            "mentee_id": row.get("mentee_id"),
            "mentee_name": person_name(names.get(str(row.get("mentee_id")))),
            "code": row.get("code", ""),
            "reason": row.get("reason", ""),
            "best_mentor_id": row.get("best_mentor_id"),
            "best_score": row.get("best_score"),
        }
        for row in rows
    ]
    return {
        "id": batch.pk,
        "batch_id": batch.pk,
        "program_id": batch.program_id,
        "created_by": batch.created_by_id,
        "settings": batch.settings,
        "total_score": batch.total_score,
        "greedy_score": batch.greedy_score,
        "solve_ms": batch.solve_ms,
        "proposals": proposals,
        "unmatched": unmatched,
        "created_at": batch.created_at,
    }


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _matches_body(program_id: Any, ids: list[Any]) -> dict:
    rows = matches_for_program(program_id).filter(pk__in=ids)
    order = {str(pk): position for position, pk in enumerate(ids)}
    return MatchesOutput({"matches": sorted(rows, key=lambda m: order[str(m.pk)])}).data


# --- Inputs -------------------------------------------------------------------------------------


class ModeInput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=MODES, required=False)


def _proposal_ids() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.UUIDField(), allow_empty=False, max_length=MAX_IDS, help_text="Ids of proposals."
    )


class ProposeInput(serializers.Serializer):
    class Meta:
        ref_name = "MentorshipMatchesPropose"

    mode = serializers.ChoiceField(choices=[PROPOSE])


class ApproveInput(serializers.Serializer):
    class Meta:
        ref_name = "MentorshipMatchesApprove"

    mode = serializers.ChoiceField(choices=[APPROVE])
    proposal_ids = _proposal_ids()
    reason = serializers.CharField(max_length=REASON_MAX, required=False, allow_blank=True, default="")


class RejectInput(serializers.Serializer):
    class Meta:
        ref_name = "MentorshipMatchesReject"

    mode = serializers.ChoiceField(choices=[REJECT])
    proposal_ids = _proposal_ids()
    reason = serializers.CharField(max_length=REASON_MAX, help_text="Why; recorded in the audit trail.")


class ManualInput(serializers.Serializer):
    class Meta:
        ref_name = "MentorshipMatchManual"

    mode = serializers.ChoiceField(choices=[MANUAL], required=False, help_text="`manual`, or leave it out.")
    mentor_id = serializers.UUIDField()
    mentee_id = serializers.UUIDField()
    reason = serializers.CharField(max_length=REASON_MAX, help_text="Why this pair is made by hand (audited).")
    proposal_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="An open proposal of the mentor or the mentee that this pair replaces (it is withdrawn).",
    )


# --- Matches ------------------------------------------------------------------------------------


class MatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MatchStatus.choices)
    source = django_filters.ChoiceFilter(choices=MatchSource.choices)
    mentor_id = django_filters.UUIDFilter(field_name="mentor_id")
    mentee_id = django_filters.UUIDFilter(field_name="mentee_id")
    batch_id = django_filters.UUIDFilter(field_name="batch_id")

    class Meta:
        model = Match
        fields = ["status", "source", "mentor_id", "mentee_id", "batch_id"]


class MatchListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = MatchOutput
    filterset_class = MatchFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no path arguments
            return Match.objects.none()
        return matches_for_program(self.kwargs["program_id"]).order_by("-created_at", "id")

    @extend_schema(
        operation_id="admin_mentorship_matches_list",
        summary="List a program's matches and proposals",
        description="Proposals (status `proposed`) and matches of the program, newest first (filters "
        "`status`, `source`, `mentor_id`, `mentee_id`, `batch_id`).",
        tags=ADMIN_TAGS,
    )
    def get(self, request, program_id, *args, **kwargs):
        program_or_404(program_id)
        return super().get(request, program_id, *args, **kwargs)

    @extend_schema(
        operation_id="admin_mentorship_matches_create",
        summary="Propose, approve, reject or make matches",
        description="One endpoint, four commands chosen by `mode`:\n\n"
        '- `{"mode": "propose"}` runs the optimal matcher over the program\'s active profiles (201, the '
        "batch: `proposals` with score and explanation, `unmatched` mentees with the reason, "
        "`total_score` against `greedy_score`). Open proposals of earlier runs are withdrawn first.\n"
        '- `{"mode": "approve", "proposal_ids": [...], "reason"?}` makes proposals active matches (200, '
        "`matches`). All or nothing: if any cannot be approved (not proposed, the mentor has no free "
        "place, the mentee is matched already) the answer is 409 with `errors` per "
        "`proposal_ids/<id>` and nothing is approved; ids not in the program answer 404.\n"
        '- `{"mode": "reject", "proposal_ids": [...], "reason": "..."}` rejects proposals (200, '
        "`matches`), all or nothing like approval; the pair is not proposed again.\n"
        '- `{"mentor_id", "mentee_id", "reason"}` (no `mode`, or `"mode": "manual"`) pairs two people '
        "by hand, active at once (201, the match). The mentor needs a mentor profile here and a free "
        "place (409 otherwise); rules the pair breaks are recorded in `explanation.overridden`.\n\n"
        "Programs that are not active answer 409; programs without matching 400.",
        request=PolymorphicProxySerializer(
            component_name="MentorshipMatchCommand",
            serializers=[ProposeInput, ApproveInput, RejectInput, ManualInput],
            resource_type_field_name=None,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="MentorshipMatchCreated",
                serializers=[ProposalRunOutput, MatchOutput],
                resource_type_field_name=None,
            ),
            200: MatchesOutput,
        },
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=ADMIN_TAGS,
    )
    @idempotent
    def post(self, request, program_id):
        program = program_or_404(program_id)
        head = ModeInput(data=request.data)
        head.is_valid(raise_exception=True)
        mode = head.validated_data.get("mode", MANUAL)
        if mode == PROPOSE:
            batch = matches_propose(program=program, actor=request.user)
            return Response(ProposalRunOutput(batch_body(batch)).data, status=status.HTTP_201_CREATED)
        if mode == APPROVE:
            data = ApproveInput(data=request.data)
            data.is_valid(raise_exception=True)
            ids = list(dict.fromkeys(data.validated_data["proposal_ids"]))
            matches_approve(program=program, proposal_ids=ids, actor=request.user, reason=data.validated_data["reason"])
            return Response(_matches_body(program_id, ids))
        if mode == REJECT:
            data = RejectInput(data=request.data)
            data.is_valid(raise_exception=True)
            ids = list(dict.fromkeys(data.validated_data["proposal_ids"]))
            matches_reject(program=program, proposal_ids=ids, reason=data.validated_data["reason"], actor=request.user)
            return Response(_matches_body(program_id, ids))
        data = ManualInput(data=request.data)
        data.is_valid(raise_exception=True)
        match = _manual(program, data.validated_data, request.user)
        return Response(MatchOutput(_match(program_id, match.pk)).data, status=status.HTTP_201_CREATED)


def _manual(program, fields: dict[str, Any], actor: Any) -> Match:
    errors: dict[str, str] = {}
    users = users_by_id({"mentor_id": fields["mentor_id"], "mentee_id": fields["mentee_id"]}, errors)
    proposal = None
    proposal_id = fields.get("proposal_id")
    if proposal_id is not None:
        proposal = Match.objects.filter(pk=proposal_id, program=program).first()
        if proposal is None:
            errors["proposal_id"] = f"No proposal with the id {proposal_id} in this program."
        elif proposal.mentor_id != fields["mentor_id"] and proposal.mentee_id != fields["mentee_id"]:
            errors["proposal_id"] = "The proposal pairs neither this mentor nor this mentee."
    if errors:
        raise ValidationFailed(errors=errors)
    return match_create_manual(
        program=program,
        mentor=users["mentor_id"],
        mentee=users["mentee_id"],
        reason=fields["reason"],
        actor=actor,
        proposal=proposal,
    )


class MatchDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "MentorshipMatchEnd"

        status = serializers.ChoiceField(choices=[MatchStatus.ENDED], help_text="`ended`: end an active match.")
        end_reason = serializers.ChoiceField(choices=EndReason.choices)
        note = serializers.CharField(max_length=REASON_MAX, required=False, allow_blank=True, default="")
        ended_at = OffsetDateTimeField(
            required=False, allow_null=True, default=None, help_text="When it ended (default: now); not in the future."
        )

    @extend_schema(
        operation_id="admin_mentorship_matches_retrieve",
        summary="Read a match or proposal",
        responses={200: MatchOutput},
        tags=ADMIN_TAGS,
    )
    def get(self, request, program_id, match_id):
        return Response(MatchOutput(_match(program_id, match_id)).data)

    @extend_schema(
        operation_id="admin_mentorship_matches_update",
        summary="End a match",
        description='`{"status": "ended", "end_reason": ..., "note"?, "ended_at"?}` ends an active match '
        "and settles both people's enrollments: a person whose last active match ends `completed` "
        "completes; one whose matches all ended, the last for another reason, is dropped. Emits "
        "`mentorship.match.ended`. A match that is not active answers 409.",
        request=Input,
        responses={200: MatchOutput},
        tags=ADMIN_TAGS,
    )
    def patch(self, request, program_id, match_id):
        match = _match(program_id, match_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        match_end(
            match=match,
            end_reason=fields["end_reason"],
            actor=request.user,
            note=fields["note"],
            ended_at=fields["ended_at"],
        )
        return Response(MatchOutput(_match(program_id, match_id)).data)


# --- Batches ------------------------------------------------------------------------------------


class ProposalBatchSummaryOutput(serializers.ModelSerializer):
    class Meta:
        model = ProposalBatch
        ref_name = "MentorshipProposalBatchSummary"
        fields = [
            "id",
            "program_id",
            "created_by",
            "total_score",
            "greedy_score",
            "solve_ms",
            "proposal_count",
            "unmatched_count",
            "created_at",
        ]

    program_id = serializers.UUIDField(read_only=True)
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)
    proposal_count = serializers.IntegerField(read_only=True, help_text="Proposals the run made.")
    unmatched_count = serializers.SerializerMethodField(help_text="Mentees it left unmatched.")

    def get_unmatched_count(self, batch: ProposalBatch) -> int:
        return len(batch.unmatched or [])


class ProposalBatchListApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = ProposalBatchSummaryOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no path arguments
            return ProposalBatch.objects.none()
        return (
            ProposalBatch.objects.filter(program_id=self.kwargs["program_id"])
            .annotate(proposal_count=Count("matches"))
            .order_by("-created_at", "id")
        )

    @extend_schema(
        operation_id="admin_mentorship_batches_list",
        summary="List proposal runs",
        description="The program's proposal runs, newest first, with their scores and counts.",
        tags=ADMIN_TAGS,
    )
    def get(self, request, program_id, *args, **kwargs):
        program_or_404(program_id)
        return super().get(request, program_id, *args, **kwargs)


class ProposalBatchDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(
        operation_id="admin_mentorship_batches_retrieve",
        summary="Read a proposal run",
        description="One run of the matcher: its settings, `total_score` against `greedy_score`, its "
        "proposals (best first, each with its status now) and the mentees it left unmatched with the reason.",
        responses={200: ProposalBatchOutput},
        tags=ADMIN_TAGS,
    )
    def get(self, request, program_id, batch_id):
        return Response(ProposalBatchOutput(batch_body(_batch(program_id, batch_id))).data)
