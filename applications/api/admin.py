"""The operators' and reviewers' API: forms and rubrics, review teams and assignments, reviews,
the ranked list, decisions (single, bulk, staged and released), requests for more information."""

from __future__ import annotations

import math

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from applications.api.serializers import (
    ApplicantOutput,
    CriterionDefinition,
    FieldDefinition,
    ReviewOutput,
    TrackOutput,
)
from applications.enums import ApplicationStatus, Recommendation
from applications.models import Application, ReviewAssignment
from applications.selectors import (
    ORDERINGS,
    anonymous,
    application_detail,
    applications_for,
    is_decider,
    ordered,
    reviews_visible,
    visible_answers,
)
from applications.services import (
    application_form_publish,
    application_request_info,
    assignment_declare_conflict,
    assignments_auto,
    assignments_create,
    decision_make,
    decisions_bulk,
    decisions_release,
    program_reviewer_add,
    review_submit,
    scores_recompute,
    scoring_rubric_publish,
)
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import HasRole, IsOperatorOrIntegrator
from core.errors import NotFound, ValidationFailed
from core.roles import Role
from programs.models import Program, ProgramTrack
from programs.selectors import program_list

TAGS = ["admin: applications"]
REVIEW_TAGS = ["admin: reviews"]


class CanReview(HasRole):
    roles = (Role.OPERATOR, Role.INTEGRATOR, Role.REVIEWER)


def _program(program_id) -> Program:
    return get_object_or_404(program_list(), pk=program_id)


# --- Forms and rubrics --------------------------------------------------------------------------


class VersionOutput(serializers.Serializer):
    program_id = serializers.UUIDField()
    version = serializers.IntegerField()


class ApplicationFormPutApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        fields = serializers.JSONField()
        tracks = serializers.JSONField(required=False)

        class Meta:
            ref_name = "ApplicationFormDefinition"

    class Output(VersionOutput):
        fields = FieldDefinition(many=True)
        tracks = TrackOutput(many=True)

        class Meta:
            ref_name = "ApplicationFormVersion"

    @extend_schema(
        operation_id="admin_programs_application_form_put",
        description="Publish a new version of the program's application form (and its tracks, when "
        "given). Submitted applications keep the version they answered. Invalid definitions answer "
        "400 naming the field path (e.g. `fields/2/options`).",
        request=Input,
        responses={200: Output},
        tags=TAGS,
    )
    def put(self, request, program_id):
        program = _program(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        form = application_form_publish(
            program=program,
            fields=data.validated_data["fields"],
            tracks=data.validated_data.get("tracks"),
            actor=request.user,
        )
        tracks = ProgramTrack.objects.filter(program=program, active=True).order_by("position", "name")
        return Response(
            self.Output(
                {"program_id": program.pk, "version": form.version, "fields": form.fields, "tracks": tracks}
            ).data
        )


class ScoringRubricPutApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        criteria = serializers.JSONField()

        class Meta:
            ref_name = "ScoringRubricDefinition"

    class Output(VersionOutput):
        criteria = CriterionDefinition(many=True)

        class Meta:
            ref_name = "ScoringRubricVersion"

    @extend_schema(
        operation_id="admin_programs_scoring_rubric_put",
        description="Publish a new version of the program's scoring rubric. Criteria have a weight and "
        "a scale; `independent` criteria are shown to deciders but left out of the total; `tracks` "
        "limits a criterion to some tracks. Reviews keep the version they used.",
        request=Input,
        responses={200: Output},
        tags=TAGS,
    )
    def put(self, request, program_id):
        program = _program(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        rubric = scoring_rubric_publish(program=program, criteria=data.validated_data["criteria"], actor=request.user)
        return Response(
            self.Output({"program_id": program.pk, "version": rubric.version, "criteria": rubric.criteria}).data
        )


# --- Review team and assignments ----------------------------------------------------------------


class ReviewTeamApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        reviewer_id = serializers.UUIDField()
        track_ids = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)

        class Meta:
            ref_name = "ReviewTeamMemberAdd"

    class Member(serializers.Serializer):
        reviewer_id = serializers.UUIDField()
        email = serializers.EmailField()
        track_ids = serializers.ListField(child=serializers.UUIDField())
        active = serializers.BooleanField()

        class Meta:
            ref_name = "ReviewTeamMember"

    def _rows(self, program):
        return [
            {
                "reviewer_id": m.reviewer_id,
                "email": m.reviewer.email,
                "track_ids": [t.pk for t in m.tracks.all()],
                "active": m.active,
            }
            for m in program.reviewers.select_related("reviewer").prefetch_related("tracks").order_by("reviewer__email")
        ]

    @extend_schema(operation_id="admin_programs_review_team_list", responses={200: Member(many=True)}, tags=REVIEW_TAGS)
    def get(self, request, program_id):
        return Response(self.Member(self._rows(_program(program_id)), many=True).data)

    @extend_schema(
        operation_id="admin_programs_review_team_add",
        description="Put a reviewer on the program's team, optionally for some tracks only.",
        request=Input,
        responses={200: Member(many=True)},
        tags=REVIEW_TAGS,
    )
    def post(self, request, program_id):
        program = _program(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        reviewer = get_user_model().objects.filter(pk=data.validated_data["reviewer_id"]).first()
        if reviewer is None:
            raise ValidationFailed(errors={"reviewer_id": "No user with this id."})
        tracks = list(ProgramTrack.objects.filter(program=program, pk__in=data.validated_data["track_ids"]))
        if len(tracks) != len(set(data.validated_data["track_ids"])):
            raise ValidationFailed(errors={"track_ids": "Tracks of this program only."})
        program_reviewer_add(program=program, reviewer=reviewer, tracks=tracks, actor=request.user)
        return Response(self.Member(self._rows(program), many=True).data)


class AssignmentsApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Pair(serializers.Serializer):
        application_id = serializers.UUIDField()
        reviewer_id = serializers.UUIDField()

        class Meta:
            ref_name = "ReviewAssignmentPair"

    class Auto(serializers.Serializer):
        reviewers_per_application = serializers.IntegerField(min_value=1, max_value=20, required=False)

        class Meta:
            ref_name = "ReviewAutoAssign"

    class Input(serializers.Serializer):
        assignments = serializers.ListField(required=False, max_length=10000)
        auto = serializers.DictField(required=False)

        class Meta:
            ref_name = "ReviewAssignmentRequest"

    class Output(serializers.Serializer):
        assigned = serializers.ListField(child=serializers.DictField())
        skipped = serializers.ListField(child=serializers.DictField())

        class Meta:
            ref_name = "ReviewAssignmentResult"

    @extend_schema(
        operation_id="admin_programs_reviews_assign",
        description='Assign reviewers: `{"assignments": [{"application_id", "reviewer_id"}]}` or '
        '`{"auto": {"reviewers_per_application": N}}` (balances load across the program\'s team, '
        "honours track-limited reviewers, never assigns a conflict of interest: the applicant, "
        "someone of the same company, a declared conflict, or a reviewer the applicant named). "
        "Pairs that cannot be assigned are listed under `skipped` with the reason.",
        request=Input,
        responses={200: Output},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=REVIEW_TAGS,
    )
    @idempotent
    def post(self, request, program_id):
        program = _program(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        if ("assignments" in data.validated_data) == ("auto" in data.validated_data):
            raise ValidationFailed(errors={"assignments": "Give either assignments or auto."})
        if "auto" in data.validated_data:
            auto = self.Auto(data=data.validated_data["auto"])
            auto.is_valid(raise_exception=True)
            created, skipped = assignments_auto(program=program, actor=request.user, **auto.validated_data)
        else:
            pairs = self.Pair(data=data.validated_data["assignments"], many=True)
            pairs.is_valid(raise_exception=True)
            created, skipped = assignments_create(
                program=program,
                pairs=[(p["application_id"], p["reviewer_id"]) for p in pairs.validated_data],
                actor=request.user,
            )
        assigned = [
            {"application_id": str(a.application_id), "reviewer_id": str(a.reviewer_id), "due_at": a.due_at.isoformat()}
            for a in created
        ]
        return Response(self.Output({"assigned": assigned, "skipped": skipped}).data)


# --- The ranked list and one application --------------------------------------------------------


class ApplicationRowOutput(serializers.ModelSerializer):
    program_id = serializers.UUIDField(read_only=True)
    track_id = serializers.UUIDField(read_only=True, allow_null=True)
    applicant = serializers.SerializerMethodField()
    recommendations = serializers.DictField(child=serializers.IntegerField())

    class Meta:
        model = Application
        fields = [
            "id",
            "program_id",
            "track_id",
            "applicant",
            "status",
            "submitted_at",
            "decided_at",
            "review_count",
            "mean_score",
            "median_score",
            "corrected_score",
            "agreement",
            "recommendations",
            "pending_decision",
            "scores_computed_at",
        ]

    @extend_schema_field(ApplicantOutput(allow_null=True))
    def get_applicant(self, obj):
        if self.context.get("anonymous"):
            return None
        return ApplicantOutput(obj.applicant).data


SCORE_FIELDS = ("corrected_score", "mean_score", "median_score")


class ApplicationListApi(ListAPIView):
    permission_classes = [CanReview]
    serializer_class = ApplicationRowOutput

    @extend_schema(
        operation_id="admin_programs_applications_list",
        description="The program's applications (reviewers: the ones assigned to them), ranked by "
        "`ordering` (default `-corrected_score`; nulls last). Filters: `status`, `track` (id or key), "
        "`reviewer` (assigned reviewer id), `min_score`/`max_score` on `score_by` "
        "(corrected_score, mean_score, median_score). In blind programs reviewers do not see "
        "`applicant`.",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=ApplicationStatus.values),
            OpenApiParameter("track", OpenApiTypes.STR),
            OpenApiParameter("reviewer", OpenApiTypes.UUID),
            OpenApiParameter("score_by", OpenApiTypes.STR, enum=list(SCORE_FIELDS)),
            OpenApiParameter("min_score", OpenApiTypes.NUMBER),
            OpenApiParameter("max_score", OpenApiTypes.NUMBER),
            OpenApiParameter("ordering", OpenApiTypes.STR, enum=[*ORDERINGS, *[f"-{o}" for o in ORDERINGS]]),
        ],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        program = getattr(self, "program", None)
        context["anonymous"] = program is not None and anonymous(program, self.request.user)
        return context

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Application.objects.none()
        self.program = _program(self.kwargs["program_id"])
        params = self.request.query_params
        qs = applications_for(self.program, self.request.user)
        errors = {}
        if status_ := params.get("status"):
            if status_ not in ApplicationStatus.values:
                errors["status"] = f"Use one of: {', '.join(ApplicationStatus.values)}."
            qs = qs.filter(status=status_)
        if track := params.get("track"):
            qs = qs.filter(track__key=track) if not _is_uuid(track) else qs.filter(track_id=track)
        if reviewer := params.get("reviewer"):
            if not _is_uuid(reviewer):
                errors["reviewer"] = "A user id."
            else:
                qs = qs.filter(
                    Exists(ReviewAssignment.objects.filter(application=OuterRef("pk"), reviewer_id=reviewer))
                )
        score_by = params.get("score_by", "corrected_score")
        if score_by not in SCORE_FIELDS:
            errors["score_by"] = f"Use one of: {', '.join(SCORE_FIELDS)}."
        for bound, lookup in (("min_score", "gte"), ("max_score", "lte")):
            if params.get(bound) is not None:
                try:
                    value = float(params[bound])
                except ValueError:
                    value = math.nan
                if not math.isfinite(value):
                    errors[bound] = "A number."
                    continue
                if score_by in SCORE_FIELDS:
                    qs = qs.filter(**{f"{score_by}__{lookup}": value})
        ordering = params.get("ordering")
        if ordering and ordering.lstrip("-") not in ORDERINGS:
            errors["ordering"] = f"Use one of: {', '.join(ORDERINGS)} (prefix - for descending)."
        if errors:
            raise ValidationFailed(errors=errors)
        # No DISTINCT: a reviewer has at most one assignment per application, so the reviewers'
        # join cannot repeat rows (and DISTINCT would sort the whole program on every page).
        return ordered(qs, ordering)


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class AnswerOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField()
    value = serializers.JSONField(allow_null=True)


class AssignmentOutput(serializers.ModelSerializer):
    reviewer_id = serializers.UUIDField(read_only=True)
    reviewer_email = serializers.EmailField(source="reviewer.email", read_only=True)

    class Meta:
        model = ReviewAssignment
        fields = ["id", "reviewer_id", "reviewer_email", "status", "due_at", "last_reminded_on", "escalated_at"]


class ApplicationDetailOutput(ApplicationRowOutput):
    answers = serializers.SerializerMethodField()
    form_version = serializers.IntegerField(source="form.version", read_only=True)
    info_request = serializers.CharField(read_only=True)
    decision_reason = serializers.CharField(read_only=True)
    pending_reason = serializers.CharField(read_only=True)
    reviews = serializers.SerializerMethodField()
    my_review = serializers.SerializerMethodField()
    assignments = serializers.SerializerMethodField()
    criteria = serializers.SerializerMethodField()

    class Meta(ApplicationRowOutput.Meta):
        fields = [
            *ApplicationRowOutput.Meta.fields,
            "form_version",
            "answers",
            "info_request",
            "decision_reason",
            "pending_reason",
            "criteria",
            "my_review",
            "reviews",
            "assignments",
        ]

    @extend_schema_field(AnswerOutput(many=True))
    def get_answers(self, obj):
        return AnswerOutput(visible_answers(obj, self.context["request"].user), many=True).data

    def _reviews(self, obj):
        if not hasattr(self, "_cached_reviews"):
            self._cached_reviews = reviews_visible(obj, self.context["request"].user)
        return self._cached_reviews

    @extend_schema_field(ReviewOutput(many=True))
    def get_reviews(self, obj):
        return ReviewOutput(self._reviews(obj)[0], many=True).data

    @extend_schema_field(ReviewOutput(allow_null=True))
    def get_my_review(self, obj):
        own = self._reviews(obj)[1]
        return ReviewOutput(own).data if own else None

    @extend_schema_field(AssignmentOutput(many=True))
    def get_assignments(self, obj):
        if not is_decider(self.context["request"].user):
            return []
        return AssignmentOutput(obj.assignments.all(), many=True).data

    @extend_schema_field(CriterionDefinition(many=True))
    def get_criteria(self, obj):
        rubric = obj.program.scoring_rubrics.order_by("-version").first()
        return CriterionDefinition(rubric.criteria if rubric else [], many=True).data


class ApplicationDetailApi(APIView):
    permission_classes = [CanReview]

    @extend_schema(
        operation_id="admin_programs_applications_retrieve",
        description="One application as the caller may see it: reviewers get reviewer-visible answers "
        "only, no identity in blind programs, and others' reviews only after submitting their own "
        "(when the program says so). Not assigned: 404.",
        responses={200: ApplicationDetailOutput},
        tags=TAGS,
    )
    def get(self, request, program_id, application_id):
        program = _program(program_id)
        try:
            application = application_detail(program, application_id, request.user)
        except Application.DoesNotExist:
            raise NotFound("No such application.") from None
        context = {"request": request, "anonymous": anonymous(program, request.user)}
        return Response(ApplicationDetailOutput(application, context=context).data)


# --- Reviewing ----------------------------------------------------------------------------------


class ReviewSubmitApi(APIView):
    permission_classes = [CanReview]

    class Input(serializers.Serializer):
        scores = serializers.JSONField()
        recommendation = serializers.ChoiceField(choices=Recommendation.choices)
        comment = serializers.CharField(required=False, allow_blank=True, default="")
        comment_to_applicant = serializers.CharField(required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "ReviewSubmit"

    @extend_schema(
        operation_id="admin_programs_applications_review",
        description="Submit (or change) your review of an application assigned to you: a score per "
        "criterion within its scale (400 per criterion otherwise), a recommendation and comments. "
        "Not assigned to you: 404.",
        request=Input,
        responses={200: ReviewOutput},
        tags=REVIEW_TAGS,
    )
    def post(self, request, program_id, application_id):
        program = _program(program_id)
        application = Application.objects.filter(program=program, pk=application_id).first()
        if application is None:
            raise NotFound("No such application among your reviews.")
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_submit(application=application, reviewer=request.user, **data.validated_data)
        return Response(ReviewOutput(review).data)


class ConflictDeclareApi(APIView):
    permission_classes = [CanReview]

    class Input(serializers.Serializer):
        reason = serializers.CharField(required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "ConflictDeclare"

    class Output(serializers.Serializer):
        reassigned_to = serializers.UUIDField(allow_null=True)

        class Meta:
            ref_name = "ConflictDeclared"

    @extend_schema(
        operation_id="admin_programs_applications_conflict",
        description="Declare a conflict of interest on an application assigned to you: it is taken "
        "off your list and given to another eligible reviewer (`reassigned_to`, or null).",
        request=Input,
        responses={200: Output},
        tags=REVIEW_TAGS,
    )
    def post(self, request, program_id, application_id):
        program = _program(program_id)
        application = Application.objects.filter(program=program, pk=application_id).first()
        if application is None:
            raise NotFound("You have no open review of this application.")
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        new = assignment_declare_conflict(
            application=application, reviewer=request.user, reason=data.validated_data["reason"], actor=request.user
        )
        return Response(self.Output({"reassigned_to": new.reviewer_id if new else None}).data)


# --- Deciding -----------------------------------------------------------------------------------


def _application(program, application_id) -> Application:
    return get_object_or_404(
        Application.objects.filter(program=program).exclude(status=ApplicationStatus.DRAFT), pk=application_id
    )


class DecisionApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["accepted", "waitlisted", "rejected"])
        reason = serializers.CharField(allow_blank=True)
        pending = serializers.BooleanField(default=False)
        cohort_id = serializers.UUIDField(required=False, allow_null=True)

        class Meta:
            ref_name = "DecisionRequest"

    @extend_schema(
        operation_id="admin_programs_applications_decision",
        description="Decide an application (`accepted`, `waitlisted`, `rejected`) with a reason. It "
        "takes effect at once (decision e-mail, `program_application_decision` event, and on "
        "acceptance an enrollment, placed in `cohort_id` when given) unless `pending` is true: then "
        "it waits for a release.",
        request=Input,
        responses={200: ApplicationRowOutput},
        tags=TAGS,
    )
    def post(self, request, program_id, application_id):
        program = _program(program_id)
        application = _application(program, application_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        application = decision_make(application=application, actor=request.user, **data.validated_data)
        return Response(
            ApplicationRowOutput(Application.objects.select_related("applicant").get(pk=application.pk)).data
        )


class RequestInfoApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        message = serializers.CharField(allow_blank=True)

        class Meta:
            ref_name = "InfoRequest"

    @extend_schema(
        operation_id="admin_programs_applications_request_info",
        description="Send the application back to the applicant with a question; their resubmission "
        "returns it to review.",
        request=Input,
        responses={200: ApplicationRowOutput},
        tags=TAGS,
    )
    def post(self, request, program_id, application_id):
        program = _program(program_id)
        application = _application(program, application_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        application = application_request_info(
            application=application, message=data.validated_data["message"], actor=request.user
        )
        return Response(
            ApplicationRowOutput(Application.objects.select_related("applicant").get(pk=application.pk)).data
        )


class BulkDecisionApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Top(serializers.Serializer):
        count = serializers.IntegerField(min_value=0, required=False)
        by = serializers.ChoiceField(choices=list(SCORE_FIELDS), default="corrected_score")
        track_id = serializers.UUIDField(required=False)
        cohort_id = serializers.UUIDField(required=False)
        quotas = serializers.DictField(required=False)

        class Meta:
            ref_name = "BulkDecisionTop"

    class Input(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["accepted", "waitlisted", "rejected"])
        reason = serializers.CharField(allow_blank=True)
        pending = serializers.BooleanField(default=False)
        application_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=10000)
        top = serializers.DictField(required=False)

        class Meta:
            ref_name = "BulkDecisionRequest"

    class Output(serializers.Serializer):
        decision = serializers.CharField()
        pending = serializers.BooleanField()
        decided = serializers.ListField(child=serializers.UUIDField())
        skipped = serializers.ListField(child=serializers.DictField())

        class Meta:
            ref_name = "BulkDecisionResult"

    @extend_schema(
        operation_id="admin_programs_decisions_bulk",
        description='Decide many applications: `application_ids`, or `top`: {"count", "by" '
        '(corrected_score by default), "track_id", "cohort_id" (fills the cohort\'s free places and '
        'places the accepted there), "quotas": {"field": <form field key>, "limits": {answer: n}}} '
        "(the program's `quota_field`/`quotas` apply otherwise). With `pending: true` the decisions "
        "are staged and go out only on release. Applications that cannot be decided are listed "
        "under `skipped` with the reason; the others are decided.",
        request=Input,
        responses={200: Output},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, program_id):
        program = _program(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        top = fields.pop("top", None)
        if top is not None:
            rule = self.Top(data=top)
            rule.is_valid(raise_exception=True)
            top = dict(rule.validated_data)
            for key in ("track_id", "cohort_id"):
                if top.get(key):
                    top[key] = top[key]
            quotas = top.get("quotas")
            if quotas is not None and (
                not isinstance(quotas.get("field"), str) or not isinstance(quotas.get("limits"), dict)
            ):
                raise ValidationFailed(
                    errors={"top/quotas": 'Give {"field": <form field key>, "limits": {answer: n}}.'}
                )
        result = decisions_bulk(program=program, top=top, actor=request.user, **fields)
        return Response(self.Output(result).data)


class ReleaseApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        application_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=10000)

        class Meta:
            ref_name = "DecisionRelease"

    class Output(serializers.Serializer):
        released = serializers.ListField(child=serializers.UUIDField())
        skipped = serializers.ListField(child=serializers.DictField())

        class Meta:
            ref_name = "DecisionReleaseResult"

    @extend_schema(
        operation_id="admin_programs_decisions_release",
        description="Let the staged (pending) decisions take effect together: e-mails, events and "
        "enrollments go out now. All of the program's, or the listed ones.",
        request=Input,
        responses={200: Output},
        tags=TAGS,
    )
    def post(self, request, program_id):
        program = _program(program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        result = decisions_release(
            program=program, application_ids=data.validated_data.get("application_ids"), actor=request.user
        )
        return Response(self.Output(result).data)


class ScoresRecomputeApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Output(serializers.Serializer):
        applications = serializers.IntegerField()

        class Meta:
            ref_name = "ScoresRecomputed"

    @extend_schema(
        operation_id="admin_programs_scores_recompute",
        description="Recompute the reviewer-bias-corrected scores of the program now (the "
        "`review_scores` job does it every ten minutes).",
        request=None,
        responses={200: Output},
        tags=TAGS,
    )
    def post(self, request, program_id):
        return Response(self.Output({"applications": scores_recompute(program=_program(program_id))}).data)
