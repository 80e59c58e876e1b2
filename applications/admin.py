"""The review and decision screens of the admin.

Reviewers (staff with the reviewer role) see only the applications assigned to them, without the
applicant's identity in blind programs and without fields not marked reviewer-visible, and score
them on the review screen. Operators see everything, assign, decide (at once or staged), release,
recompute scores and export."""

from __future__ import annotations

import csv
import threading

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from applications.definitions import criteria_for
from applications.enums import ApplicationStatus, AssignmentStatus, Recommendation
from applications.models import (
    Application,
    ApplicationForm,
    ConflictOfInterest,
    ProgramReviewer,
    Review,
    ReviewAssignment,
    ScoringRubric,
    WaitlistOffer,
)
from applications.selectors import anonymous, is_decider, reviews_visible, visible_answers
from applications.services import (
    assignments_auto,
    decisions_bulk,
    decisions_release,
    review_submit,
    scores_recompute,
)
from applications.services.common import app_config, current_rubric
from core.admin import AuditTrailMixin, pretty_json
from core.errors import DomainError, ValidationFailed


class StagedFilter(admin.SimpleListFilter):
    """Staged (pending) decisions, without scanning every row for its distinct values."""

    title = "staged decision"
    parameter_name = "staged"

    def lookups(self, request, model_admin):
        return [("yes", "Staged"), ("no", "Not staged")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(pending_decision="")
        if self.value() == "no":
            return queryset.filter(pending_decision="")
        return queryset


class DecisionActionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason", help_text="Required for decisions; sent to applicants.")
    pending = forms.BooleanField(required=False, label="Stage only (release later)")


# The request being served by this thread: list columns and read-only fields only receive the row,
# yet what they show depends on who looks (reviewers of blind programs see no identity).
_current = threading.local()


def _rendered(response):
    """Render a template response while `_current.request` is still set."""
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    return response


def _short(application) -> str:
    return f"#{str(application.pk)[:8]}"


def _viewer():
    """The user looking at the page being rendered by this thread (None outside a view)."""
    request = getattr(_current, "request", None)
    return request.user if request is not None else None


# Assignments that give a reviewer access (a declared conflict takes it away).
ACTIVE_ASSIGNMENT = (AssignmentStatus.ASSIGNED, AssignmentStatus.SUBMITTED)

# Spreadsheet programs run cells starting with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@admin.register(Application)
class ApplicationAdmin(AuditTrailMixin, admin.ModelAdmin):
    action_form = DecisionActionForm
    list_display = (
        "label",
        "who",
        "program",
        "track",
        "status",
        "review_count",
        "mean_score",
        "corrected_score",
        "agreement",
        "pending_decision",
    )
    list_filter = ("status", "program", "track", StagedFilter)
    search_fields = ("id", "applicant__email", "applicant__full_name")
    list_select_related = ("program", "track__program", "applicant")  # str(track) names its program
    # Best first; applications without a score yet last (PostgreSQL sorts NULL first descending).
    ordering = (F("corrected_score").desc(nulls_last=True), "submitted_at")
    show_full_result_count = False  # a second COUNT over every application is not worth it
    actions = [
        "assign_reviewers",
        "accept",
        "waitlist",
        "reject",
        "release_pending",
        "recompute_scores",
        "export_csv",
    ]
    readonly_fields = (
        "label",
        "who",
        "program",
        "track",
        "status",
        "submitted_at",
        "decided_at",
        "decision_reason",
        "info_request",
        "pending_decision",
        "pending_reason",
        "scores_summary",
        "answers_table",
        "reviews_table",
        "review_link",
        "audit_trail",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        qs = super().get_queryset(request).exclude(status=ApplicationStatus.DRAFT)
        if is_decider(request.user):
            return qs
        # One assignment per (application, reviewer): the join repeats no row, no DISTINCT needed.
        return qs.filter(assignments__reviewer=request.user, assignments__status__in=ACTIVE_ASSIGNMENT)

    def get_search_fields(self, request):
        # Reviewers cannot probe for an applicant's name or e-mail (blind review).
        return self.search_fields if is_decider(request.user) else ("id",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # every change is an action or the review screen, both through services

    def get_fields(self, request, obj=None):
        fields = list(self.fields)
        if not is_decider(request.user):
            fields.remove("audit_trail")
        return fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not is_decider(request.user):
            return {}
        return actions

    # --- columns and read-only fields -----------------------------------------------------------

    @admin.display(description="Application")
    def label(self, obj) -> str:
        return _short(obj)

    @admin.display(description="Applicant")
    def who(self, obj) -> str:
        viewer = _viewer()
        if viewer is None or anonymous(obj.program, viewer):
            return "(blind review)"
        return f"{obj.applicant.full_name or ''} <{obj.applicant.email}>".strip()

    def changelist_view(self, request, extra_context=None):
        _current.request = request
        try:
            return _rendered(super().changelist_view(request, extra_context))
        finally:
            _current.request = None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None:
            # The default subtitle and breadcrumb are str(application), which names the applicant.
            blind = anonymous(obj.program, request.user)
            extra_context.setdefault("subtitle", f"{_short(obj)} · {obj.program}" if blind else str(obj))
            extra_context.setdefault("show_history", is_decider(request.user))
        _current.request = request
        try:
            return _rendered(super().change_view(request, object_id, form_url, extra_context))
        finally:
            _current.request = None

    def history_view(self, request, object_id, extra_context=None):
        # The audit trail on the change page is the history; reviewers see neither (it names people).
        if not is_decider(request.user):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    @admin.display(description="Scores")
    def scores_summary(self, obj) -> str:
        return format_html(
            "{} reviews · mean {} · median {} · corrected {} · agreement {} · recommendations {}",
            obj.review_count,
            obj.mean_score if obj.mean_score is not None else "-",
            obj.median_score if obj.median_score is not None else "-",
            obj.corrected_score if obj.corrected_score is not None else "-",
            obj.agreement if obj.agreement is not None else "-",
            ", ".join(f"{k} {v}" for k, v in obj.recommendations.items()) or "-",
        )

    @admin.display(description="Answers")
    def answers_table(self, obj) -> str:
        rows = visible_answers(obj, _current.request.user)
        return format_html(
            '<table class="answers"><tbody>{}</tbody></table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", ((r["label"], r["value"]) for r in rows)),
        )

    @admin.display(description="Reviews")
    def reviews_table(self, obj) -> str:
        reviews, own = reviews_visible(obj, _current.request.user)
        if not reviews:
            if own is None and not is_decider(_current.request.user):
                return "Other reviews are shown once you have submitted yours."
            return "No reviews yet."
        return format_html(
            '<table class="reviews"><thead><tr><th>Reviewer</th><th>Scores</th><th>Total</th>'
            "<th>Recommendation</th><th>Comment</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        "you" if r.reviewer_id == _current.request.user.pk else r.reviewer.email,
                        ", ".join(f"{k}={v}" for k, v in r.scores.items()),
                        r.weighted_total,
                        r.recommendation,
                        r.comment,
                    )
                    for r in reviews
                ),
            ),
        )

    @admin.display(description="Your review")
    def review_link(self, obj) -> str:
        if not ReviewAssignment.objects.filter(
            application=obj, reviewer=_current.request.user, status__in=ACTIVE_ASSIGNMENT
        ).exists():
            return "-"
        url = reverse("admin:applications_application_review", args=[obj.pk])
        return format_html('<a class="button" href="{}" data-testid="review-link">Score this application</a>', url)

    # --- the review screen ----------------------------------------------------------------------

    def get_urls(self):
        custom = [
            path(
                "<uuid:application_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="applications_application_review",
            )
        ]
        return custom + super().get_urls()

    def review_view(self, request, application_id):
        application = get_object_or_404(
            Application.objects.select_related("program", "track", "form"), pk=application_id
        )
        assignment = ReviewAssignment.objects.filter(
            application=application, reviewer=request.user, status__in=ACTIVE_ASSIGNMENT
        ).first()
        if assignment is None or not self.has_view_permission(request, application):
            messages.error(request, "This application is not among your reviews.")
            return HttpResponseRedirect(reverse("admin:applications_application_changelist"))
        existing = Review.objects.filter(assignment=assignment).select_related("rubric").first()
        rubric = existing.rubric if existing else current_rubric(application.program)
        criteria = criteria_for(rubric.criteria, application.track.key if application.track_id else None)
        errors: dict[str, str] = {}
        values = dict(existing.scores) if existing else {}
        recommendation = existing.recommendation if existing else ""
        comment = existing.comment if existing else ""
        to_applicant = existing.comment_to_applicant if existing else ""
        shown = dict(values)  # what the inputs show: the saved scores, or exactly what was typed
        if request.method == "POST":
            values, unreadable = {}, {}
            for criterion in criteria:
                raw = request.POST.get(f"score_{criterion['key']}", "").strip()
                shown[criterion["key"]] = raw
                try:
                    values[criterion["key"]] = int(raw) if raw.lstrip("-").isdigit() else float(raw)
                except ValueError:
                    if raw:
                        unreadable[f"scores/{criterion['key']}"] = "Enter a number."
            recommendation = request.POST.get("recommendation", "")
            comment = request.POST.get("comment", "")
            to_applicant = request.POST.get("comment_to_applicant", "")
            # The service checks everything (scale, missing scores, recommendation) in one go, so
            # every problem shows at once; a criterion left out answers "Score this criterion.".
            try:
                review_submit(
                    application=application,
                    reviewer=request.user,
                    scores=values,
                    recommendation=recommendation,
                    comment=comment,
                    comment_to_applicant=to_applicant,
                )
            except ValidationFailed as exc:
                errors = {**exc.errors, **unreadable}
                if not errors:
                    messages.error(request, exc.detail)
            except DomainError as exc:
                messages.error(request, exc.detail)
            else:
                messages.success(request, "Your review was saved.")
                return HttpResponseRedirect(reverse("admin:applications_application_change", args=[application.pk]))
        rows = [
            {**c, "value": shown.get(c["key"], ""), "error": errors.pop(f"scores/{c['key']}", None)} for c in criteria
        ]
        recommendation_error = errors.pop("recommendation", None)
        reviews, own = reviews_visible(application, request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review {_short(application)}",
            "application": application,
            "label": _short(application),
            "who": None if anonymous(application.program, request.user) else application.applicant,
            "answers": visible_answers(application, request.user),
            "criteria": rows,
            "recommendations": Recommendation.choices,
            "recommendation": recommendation,
            "recommendation_error": recommendation_error,
            # Whatever no input shows (e.g. a criterion of another track): above the form.
            "other_errors": [f"{path}: {message}" for path, message in errors.items()],
            "other_reviews": [r for r in reviews if r.reviewer_id != request.user.pk],
            "other_reviews_hidden": own is None
            and not is_decider(request.user)
            and app_config(application.program)["hide_other_reviews"],
            "comment": comment,
            "comment_to_applicant": to_applicant,
            "rubric_version": rubric.version,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/applications/application/review.html", context)

    # --- actions --------------------------------------------------------------------------------

    def _by_program(self, queryset):
        programs: dict = {}
        for application in queryset.select_related("program"):
            programs.setdefault(application.program, []).append(application.pk)
        return programs

    @admin.action(description="Assign reviewers automatically to the selected applications' programs")
    def assign_reviewers(self, request, queryset):
        for program in self._by_program(queryset):
            try:
                created, skipped = assignments_auto(program=program, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{program}: {exc.detail}", level=messages.ERROR)
                continue
            self.message_user(
                request, f"{program}: {len(created)} assignments made, {len(skipped)} applications short of reviewers."
            )

    def _decide(self, request, queryset, decision):
        reason = request.POST.get("reason", "").strip()
        pending = request.POST.get("pending") == "on"
        for program, ids in self._by_program(queryset).items():
            try:
                result = decisions_bulk(
                    program=program,
                    decision=decision,
                    reason=reason,
                    pending=pending,
                    application_ids=ids,
                    actor=request.user,
                )
            except DomainError as exc:
                self.message_user(request, " ".join(exc.errors.values()) or exc.detail, level=messages.ERROR)
                continue
            verb = "Staged" if pending else "Decided"
            self.message_user(request, f"{verb} {len(result['decided'])} as {decision}.", level=messages.SUCCESS)
            for skip in result["skipped"]:
                self.message_user(request, f"#{skip['application_id'][:8]}: {skip['reason']}", level=messages.WARNING)

    @admin.action(description="Accept selected (reason required)")
    def accept(self, request, queryset):
        self._decide(request, queryset, ApplicationStatus.ACCEPTED)

    @admin.action(description="Waitlist selected (reason required)")
    def waitlist(self, request, queryset):
        self._decide(request, queryset, ApplicationStatus.WAITLISTED)

    @admin.action(description="Reject selected (reason required)")
    def reject(self, request, queryset):
        self._decide(request, queryset, ApplicationStatus.REJECTED)

    @admin.action(description="Release the staged decisions of the selected")
    def release_pending(self, request, queryset):
        for program, ids in self._by_program(queryset).items():
            result = decisions_release(program=program, application_ids=ids, actor=request.user)
            self.message_user(request, f"{program}: released {len(result['released'])} decisions.")
            for skip in result["skipped"]:
                self.message_user(request, f"#{skip['application_id'][:8]}: {skip['reason']}", level=messages.WARNING)

    @admin.action(description="Recompute corrected scores of the selected applications' programs")
    def recompute_scores(self, request, queryset):
        for program in self._by_program(queryset):
            self.message_user(request, f"{program}: {scores_recompute(program=program)} applications scored.")

    @admin.action(description="Export selected as CSV (with scores)")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="applications.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "id",
                "program",
                "track",
                "applicant_email",
                "status",
                "submitted_at",
                "review_count",
                "mean_score",
                "median_score",
                "corrected_score",
                "agreement",
                "recommendations",
                "decision_reason",
            ]
        )
        rows = queryset.select_related("program", "track", "applicant").order_by(
            F("corrected_score").desc(nulls_last=True), "submitted_at", "id"
        )
        for a in rows:
            writer.writerow(
                _cell(value)
                for value in [
                    a.pk,
                    a.program.program_key,
                    a.track.key if a.track_id else "",
                    a.applicant.email,
                    a.status,
                    a.submitted_at.isoformat() if a.submitted_at else "",
                    a.review_count,
                    a.mean_score if a.mean_score is not None else "",
                    a.median_score if a.median_score is not None else "",
                    a.corrected_score if a.corrected_score is not None else "",
                    a.agreement if a.agreement is not None else "",
                    " ".join(f"{k}:{v}" for k, v in a.recommendations.items()),
                    a.decision_reason,
                ]
            )
        return response


class DecidersOnly:
    """Reviewers hold the app's view permission for their applications and the review screen;
    these lists name applicants, other reviewers and their scores, so they are for deciders."""

    def has_view_permission(self, request, obj=None):
        return is_decider(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return is_decider(request.user) and super().has_change_permission(request, obj)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApplicationForm)
class ApplicationFormAdmin(ReadOnly):
    list_display = ("program", "version", "created_at", "created_by")
    list_filter = ("program",)
    list_select_related = ("program", "created_by")
    readonly_fields = ("program", "version", "fields_pretty", "created_at", "created_by")
    exclude = ("fields",)

    @admin.display(description="Fields")
    def fields_pretty(self, obj):
        return pretty_json(obj.fields)


@admin.register(ScoringRubric)
class ScoringRubricAdmin(ReadOnly):
    list_display = ("program", "version", "created_at", "created_by")
    list_filter = ("program",)
    list_select_related = ("program", "created_by")
    readonly_fields = ("program", "version", "criteria_pretty", "created_at", "created_by")
    exclude = ("criteria",)

    @admin.display(description="Criteria")
    def criteria_pretty(self, obj):
        return pretty_json(obj.criteria)


@admin.register(ReviewAssignment)
class ReviewAssignmentAdmin(DecidersOnly, ReadOnly):
    list_display = ("application", "reviewer", "status", "due_at", "last_reminded_on", "escalated_at")
    list_filter = ("status", "application__program")
    search_fields = ("reviewer__email", "application__id")
    list_select_related = ("application__applicant", "application__program", "reviewer")


@admin.register(Review)
class ReviewAdmin(DecidersOnly, ReadOnly):
    list_display = ("application", "reviewer", "weighted_total", "recommendation", "submitted_at")
    list_filter = ("recommendation", "application__program")
    search_fields = ("reviewer__email",)
    list_select_related = ("application__applicant", "application__program", "reviewer")


@admin.register(ProgramReviewer)
class ProgramReviewerAdmin(DecidersOnly, admin.ModelAdmin):
    list_display = ("program", "reviewer", "active")
    list_filter = ("program", "active")
    list_select_related = ("program", "reviewer")
    search_fields = ("reviewer__email",)
    autocomplete_fields = ("reviewer",)
    filter_horizontal = ("tracks",)


@admin.register(ConflictOfInterest)
class ConflictOfInterestAdmin(DecidersOnly, admin.ModelAdmin):
    list_display = ("reviewer", "applicant", "reason", "created_at")
    list_select_related = ("reviewer", "applicant")
    search_fields = ("reviewer__email", "applicant__email")
    autocomplete_fields = ("reviewer", "applicant")


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(DecidersOnly, ReadOnly):
    list_display = ("application", "status", "expires_at", "responded_at")
    list_filter = ("status",)
    list_select_related = ("application__applicant", "application__program")
