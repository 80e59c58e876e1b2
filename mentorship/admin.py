"""The operators' mentorship screens.

- Profiles: both sides of each program, edited through `profile_upsert`.
- Proposal review (per program, from the proposal batches, the matches or the program list): run
  the optimal matcher, read each proposed pair's score and per-criterion breakdown, approve,
  reject with a reason, swap the mentors of two proposals, see who stayed unmatched and why, the
  total score against the greedy baseline, and pair two people by hand.
- Matches: filterable list, the explanation in words, and ending a match with a reason.
- Check-ins, feedback, milestones and activities: read-only lists.

Every change goes through `mentorship.services`; nothing here writes rows, and nothing is deleted.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import AuditTrailMixin, ServiceAdminMixin, domain_error_text, pretty_json
from core.errors import Conflict, DomainError, ValidationFailed
from mentorship.enums import EndReason, MatchStatus, ProfileKind
from mentorship.forms import EndMatchForm, ManualMatchForm, ProfileAdminForm, add_service_errors, user_label
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone, Profile, ProposalBatch
from mentorship.services import (
    match_create_manual,
    match_end,
    matches_approve,
    matches_propose,
    matches_reject,
    profile_upsert,
    proposals_swap,
)
from mentorship.services.common import matching_config, self_accept, supports_matching
from programs.models import Program

# In the engine's order (a JSON column does not keep the order of keys).
CRITERION_LABELS = {
    "language": "Language",
    "skills": "Skills",
    "goals": "Goals",
    "industry": "Industry",
    "timezone": "Time zone",
    "availability": "Availability",
}


def review_url(program_id: Any) -> str:
    return reverse("admin:mentorship_proposal_review", args=[program_id])


def criteria_rows(explanation: dict) -> list[dict]:
    """The explanation's criteria as rows: label, weight, score, counted, detail sentence."""
    rows = []
    criteria = (explanation or {}).get("criteria") or {}
    order = list(CRITERION_LABELS)
    for name, part in sorted(criteria.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0])):
        if not isinstance(part, dict):
            continue
        rows.append(
            {
                "name": name,
                "label": CRITERION_LABELS.get(name, name.replace("_", " ").capitalize()),
                "weight": part.get("weight"),
                "score": part.get("score"),
                "counted": part.get("counted", True),
                "detail": part.get("detail", ""),
            }
        )
    return rows


def explanation_context(explanation: dict) -> dict:
    explanation = explanation or {}
    return {
        "criteria": criteria_rows(explanation),
        "rule": explanation.get("rule", ""),
        "constraints": explanation.get("constraints") or [],
        "overridden": explanation.get("overridden") or [],
        "manual": bool(explanation.get("manual")),
        "swapped": bool(explanation.get("swapped")),
        "reason": explanation.get("reason", ""),
    }


def _score(value) -> str:
    """Three decimals, rounded as the templates round (half up), so every screen agrees."""
    return "-" if value is None else floatformat(value, 3)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Profiles -----------------------------------------------------------------------------------


def _set_active(modeladmin, request, queryset, active: bool, done: str):
    def apply(profile):
        profile_upsert(
            program=profile.program, user=profile.user, kind=profile.kind, data={"active": active}, actor=request.user
        )

    modeladmin.run_service_action(request, queryset.select_related("program__template", "user"), apply, done)


@admin.register(Profile)
class ProfileAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    form = ProfileAdminForm
    list_display = (
        "person",
        "program",
        "kind",
        "capacity_shown",
        "languages_shown",
        "skills_shown",
        "timezone",
        "active",
    )
    list_filter = ("program", "kind", "active")
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user", "program")
    autocomplete_fields = ("user",)
    actions = ["activate", "deactivate"]

    def get_fields(self, request, obj=None):
        fields = ["capacity", "skills", "languages", "timezone", "industries", "goals", "avoid", "bio", "active"]
        if obj is None:
            return ["user", "program", "kind", *fields]
        return ["user", "program", "kind", *fields, "audit_trail"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "program", "kind", "audit_trail"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "program":
            kwargs["queryset"] = Program.objects.filter(template__supports_matching=True).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Person", ordering="user__email")
    def person(self, obj) -> str:
        return user_label(obj.user)

    @admin.display(description="Capacity", ordering="capacity")
    def capacity_shown(self, obj) -> str:
        return str(obj.capacity) if obj.kind == ProfileKind.MENTOR else "-"

    @admin.display(description="Languages")
    def languages_shown(self, obj) -> str:
        return ", ".join(obj.languages) or "-"

    @admin.display(description="Skills")
    def skills_shown(self, obj) -> str:
        return ", ".join(obj.skills) or "-"

    def save_model(self, request, obj, form, change):
        if change:
            user, program, kind = obj.user, obj.program, obj.kind
        else:
            user, program, kind = form.cleaned_data["user"], form.cleaned_data["program"], form.cleaned_data["kind"]
        profile, _ = profile_upsert(program=program, user=user, kind=kind, data=form.profile_data, actor=request.user)
        obj.pk = profile.pk
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Activate selected profiles (they take part in matching)", permissions=["change"])
    def activate(self, request, queryset):
        _set_active(self, request, queryset, True, "Activated {count} profile(s).")

    @admin.action(description="Deactivate selected profiles (left out of matching)", permissions=["change"])
    def deactivate(self, request, queryset):
        _set_active(self, request, queryset, False, "Deactivated {count} profile(s).")


# --- Proposal batches and the review screen -----------------------------------------------------


def _selected_ids(request) -> tuple[list[str], list[str]]:
    """The proposal ids ticked on the review screen, and any that are not ids at all."""
    ids, bad = [], []
    for raw in request.POST.getlist("proposal"):
        try:
            ids.append(str(uuid.UUID(raw)))
        except ValueError:
            bad.append(raw)
    return list(dict.fromkeys(ids)), bad


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _pair(match: Match) -> str:
    return f"{user_label(match.mentee)} with {user_label(match.mentor)}"


@admin.register(ProposalBatch)
class ProposalBatchAdmin(ReadOnlyAdmin):
    """Each run of the matcher. The review screen of a program shows its latest batch."""

    list_display = (
        "created_at",
        "program",
        "created_by",
        "proposal_count",
        "unmatched_count",
        "total_score",
        "greedy_score",
        "solve_ms",
        "review_link",
    )
    list_filter = ("program",)
    list_select_related = ("program", "created_by")
    date_hierarchy = "created_at"
    readonly_fields = (
        "program",
        "created_by",
        "created_at",
        "total_score",
        "greedy_score",
        "solve_ms",
        "settings_pretty",
        "unmatched_pretty",
        "review_link",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_proposals=Count("matches"))

    @admin.display(description="Pairs", ordering="_proposals")
    def proposal_count(self, obj) -> int:
        return getattr(obj, "_proposals", 0)

    @admin.display(description="Unmatched")
    def unmatched_count(self, obj) -> int:
        return len(obj.unmatched or [])

    @admin.display(description="Settings")
    def settings_pretty(self, obj):
        return pretty_json(obj.settings)

    @admin.display(description="Unmatched mentees")
    def unmatched_pretty(self, obj):
        return pretty_json(obj.unmatched)

    @admin.display(description="Review")
    def review_link(self, obj) -> str:
        return format_html('<a href="{}">Proposal review</a>', review_url(obj.program_id))

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "review_index_url": reverse("admin:mentorship_proposal_review_index")}
        return super().changelist_view(request, extra_context)

    # --- custom views -----------------------------------------------------------------------------

    def get_urls(self):
        custom = [
            path(
                "review/", self.admin_site.admin_view(self.review_index_view), name="mentorship_proposal_review_index"
            ),
            path(
                "review/<uuid:program_id>/",
                self.admin_site.admin_view(self.review_view),
                name="mentorship_proposal_review",
            ),
        ]
        return custom + super().get_urls()

    def _match_admin(self):
        return self.admin_site.get_model_admin(Match)

    def _may_view(self, request) -> bool:
        return self._match_admin().has_view_permission(request)

    def _may_change(self, request) -> bool:
        return self._match_admin().has_change_permission(request)

    def review_index_view(self, request):
        if not self._may_view(request):
            raise PermissionDenied
        programs = (
            Program.objects.filter(template__supports_matching=True)
            .annotate(
                open_count=Count("matches", filter=Q(matches__status=MatchStatus.PROPOSED)),
                active_count=Count("matches", filter=Q(matches__status=MatchStatus.ACTIVE)),
            )
            .order_by("status", "name")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Proposal review",
            "programs": programs,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/mentorship/proposalbatch/review_index.html", context)

    def review_view(self, request, program_id):
        program = get_object_or_404(Program.objects.select_related("template"), pk=program_id)
        if not self._may_view(request):
            raise PermissionDenied
        if not supports_matching(program):
            messages.error(request, f"'{program.name}' is a {program.program_type} program; it has no matching.")
            return HttpResponseRedirect(reverse("admin:mentorship_proposal_review_index"))
        manual_form = ManualMatchForm(program=program)
        reason_typed = ""
        if request.method == "POST":
            if not self._may_change(request):
                raise PermissionDenied
            action = request.POST.get("action", "")
            if action == "manual":
                manual_form = ManualMatchForm(request.POST, program=program)
                if self._manual(request, program, manual_form):
                    return HttpResponseRedirect(review_url(program.pk))
            elif action in ("propose", "approve", "reject", "swap"):
                done = getattr(self, f"_{action}")(request, program)
                if done:
                    return HttpResponseRedirect(review_url(program.pk))
                reason_typed = request.POST.get("reason", "")
            else:
                messages.error(request, "Choose what to do: run matching, approve, reject, swap or match by hand.")
        context = {
            **self.admin_site.each_context(request),
            **self._review_context(request, program),
            "manual_form": manual_form,
            "reason_typed": reason_typed,
            "selected": set(request.POST.getlist("proposal")) if request.method == "POST" else set(),
        }
        return TemplateResponse(request, "admin/mentorship/proposalbatch/review.html", context)

    def _review_context(self, request, program: Program) -> dict:
        batch = ProposalBatch.objects.filter(program=program).select_related("created_by").first()
        rows, unmatched, gain, gain_percent = [], [], None, None
        if batch is not None:
            order = {MatchStatus.PROPOSED: 0, MatchStatus.ACTIVE: 1}
            matches = sorted(
                Match.objects.filter(batch=batch).select_related("mentor", "mentee"),
                key=lambda m: (order.get(m.status, 2), -(m.score or 0), m.mentee.email),
            )
            rows = [{"match": m, **explanation_context(m.explanation)} for m in matches]
            ids = {entry.get("mentee_id") for entry in batch.unmatched} | {
                entry.get("best_mentor_id") for entry in batch.unmatched if entry.get("best_mentor_id")
            }
            people = get_user_model().objects.in_bulk([i for i in map(_uuid, ids) if i])
            for entry in batch.unmatched:
                mentee, best = people.get(_uuid(entry.get("mentee_id"))), people.get(_uuid(entry.get("best_mentor_id")))
                unmatched.append({**entry, "mentee": mentee, "best_mentor": best})
            gain = batch.total_score - batch.greedy_score
            gain_percent = (gain / batch.greedy_score * 100) if batch.greedy_score else None
        counts = dict(
            Profile.objects.filter(program=program, active=True)
            .values("kind")
            .annotate(n=Count("id"))
            .values_list("kind", "n")
        )
        config = matching_config(program)
        return {
            "title": f"Proposal review: {program.name}",
            "program": program,
            "batch": batch,
            "rows": rows,
            "open_count": sum(1 for r in rows if r["match"].status == MatchStatus.PROPOSED),
            "unmatched": unmatched,
            "gain": gain,
            "gain_percent": gain_percent,
            "mentor_count": counts.get(ProfileKind.MENTOR, 0),
            "mentee_count": counts.get(ProfileKind.MENTEE, 0),
            "weights": [
                {"label": label, "weight": (config.get("weights") or {})[name]}
                for name, label in CRITERION_LABELS.items()
                if (config.get("weights") or {}).get(name)
            ],
            "min_score": config.get("min_score", 0),
            "self_accept": self_accept(program),
            "can_change": self._may_change(request),
            "opts": self.model._meta,
            "matches_url": reverse("admin:mentorship_match_changelist") + f"?program__id__exact={program.pk}",
        }

    # --- the review screen's actions (each answers True when done, to redirect) -------------------

    def _selected(self, request, program: Program) -> list[Match] | None:
        ids, bad = _selected_ids(request)
        if bad:
            messages.error(request, f"Not a proposal id: {', '.join(bad[:5])}.")
            return None
        if not ids:
            messages.warning(request, "Select at least one proposal first.")
            return None
        found = list(Match.objects.filter(program=program, pk__in=ids).select_related("mentor", "mentee"))
        if len(found) != len(ids):
            messages.error(request, "Some selected proposals are not in this program; reload the page.")
            return None
        return sorted(found, key=lambda m: ids.index(str(m.pk)))

    def _propose(self, request, program: Program) -> bool:
        try:
            batch = matches_propose(program=program, actor=request.user)
        except DomainError as exc:
            messages.error(request, domain_error_text(exc))
            return False
        proposals = batch.matches.count()
        messages.success(
            request,
            f"Matching ran: {proposals} proposal(s), {len(batch.unmatched)} mentee(s) unmatched; total score "
            f"{_score(batch.total_score)} against {_score(batch.greedy_score)} for the greedy baseline.",
        )
        return True

    def _decide(self, request, program: Program, service, done: str) -> bool:
        """Approve or reject the selected proposals: all or nothing, each refused one named."""
        selected = self._selected(request, program)
        if selected is None:
            return False
        reason = request.POST.get("reason", "").strip()
        try:
            decided = service(program=program, proposal_ids=[m.pk for m in selected], actor=request.user, reason=reason)
        except Conflict as exc:
            messages.error(request, exc.detail)
            by_id = {str(m.pk): m for m in selected}
            for key, problem in exc.errors.items():
                match = by_id.get(key.removeprefix("proposal_ids/"))
                messages.error(request, f"{_pair(match)}: {problem}" if match else f"{key}: {problem}")
            return False
        except ValidationFailed as exc:
            messages.error(request, " ".join(exc.errors.values()) or exc.detail)
            return False
        except DomainError as exc:
            messages.error(request, domain_error_text(exc))
            return False
        messages.success(request, done.format(count=len(decided)))
        return True

    def _approve(self, request, program: Program) -> bool:
        return self._decide(
            request, program, matches_approve, "Approved {count} proposal(s); they are active matches now."
        )

    def _reject(self, request, program: Program) -> bool:
        return self._decide(
            request, program, matches_reject, "Rejected {count} proposal(s); these pairs are not proposed again."
        )

    def _swap(self, request, program: Program) -> bool:
        selected = self._selected(request, program)
        if selected is None:
            return False
        if len(selected) != 2:
            messages.error(request, "Select exactly two proposals to swap their mentors.")
            return False
        try:
            first, second = proposals_swap(
                first=selected[0], second=selected[1], actor=request.user, reason=request.POST.get("reason", "").strip()
            )
        except DomainError as exc:
            messages.error(request, domain_error_text(exc))
            return False
        messages.success(request, "Swapped the mentors of the two proposals; both pairs were scored again.")
        return True

    def _manual(self, request, program: Program, form: ManualMatchForm) -> bool:
        if not form.is_valid():
            return False
        try:
            match = match_create_manual(
                program=program,
                mentor=form.cleaned_data["mentor"],
                mentee=form.cleaned_data["mentee"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except DomainError as exc:
            add_service_errors(form, exc, {"mentor_id": "mentor", "mentee_id": "mentee"})
            return False
        messages.success(request, f"Matched {user_label(match.mentee)} with {user_label(match.mentor)} by hand.")
        return True


# --- Matches ------------------------------------------------------------------------------------


class EndActionForm(ActionForm):
    end_reason = forms.ChoiceField(
        choices=[("", "Choose")] + list(EndReason.choices), required=False, label="End reason"
    )
    note = forms.CharField(required=False, label="Note", help_text="Recorded in the audit trail.")


@admin.register(Match)
class MatchAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    """Matches and proposals. They are made on the proposal review screen (or by people answering
    their proposals); here they are read and ended."""

    action_form = EndActionForm
    list_display = (
        "mentee_shown",
        "mentor_shown",
        "program",
        "status",
        "source",
        "score_shown",
        "started_at",
        "ended_at",
        "end_reason",
    )
    list_filter = (("program", admin.RelatedOnlyFieldListFilter), "status", "source", "end_reason")
    search_fields = ("mentor__email", "mentor__full_name", "mentee__email", "mentee__full_name", "external_id")
    list_select_related = ("program", "mentor", "mentee")
    date_hierarchy = "created_at"
    actions = ["end_selected"]
    readonly_fields = (
        "program",
        "mentor",
        "mentee",
        "status",
        "source",
        "score_shown",
        "explanation_readable",
        "reason",
        "batch",
        "external_id",
        "mentor_accepted_at",
        "mentee_accepted_at",
        "decided_by",
        "started_at",
        "ended_at",
        "end_reason",
        "end_link",
        "audit_trail",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("program", "mentor", "mentee")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        return  # every field is read-only; ending goes through the form or the action

    @admin.display(description="Mentee", ordering="mentee__email")
    def mentee_shown(self, obj) -> str:
        return user_label(obj.mentee)

    @admin.display(description="Mentor", ordering="mentor__email")
    def mentor_shown(self, obj) -> str:
        return user_label(obj.mentor)

    @admin.display(description="Score", ordering="score")
    def score_shown(self, obj) -> str:
        return _score(obj.score)

    @admin.display(description="Why this pair")
    def explanation_readable(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "-"
        return render_to_string(
            "admin/mentorship/_explanation.html", {**explanation_context(obj.explanation), "score": obj.score}
        )

    @admin.display(description="End")
    def end_link(self, obj) -> str:
        if obj is None or obj.pk is None or obj.status != MatchStatus.ACTIVE:
            return "-"
        return format_html(
            '<a class="button" href="{}" data-testid="end-match-link">End this match</a>',
            reverse("admin:mentorship_match_end", args=[obj.pk]),
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "review_index_url": reverse("admin:mentorship_proposal_review_index")}
        return super().changelist_view(request, extra_context)

    @admin.action(description="End selected active matches (choose an end reason)", permissions=["change"])
    def end_selected(self, request, queryset):
        end_reason = request.POST.get("end_reason", "")
        if not end_reason:
            self.message_user(request, "Choose an end reason for the selected matches.", level=messages.ERROR)
            return
        note = request.POST.get("note", "").strip()
        self.run_service_action(
            request,
            queryset,
            lambda match: match_end(match=match, end_reason=end_reason, note=note, actor=request.user),
            "Ended {count} match(es).",
        )

    def get_urls(self):
        custom = [path("<uuid:match_id>/end/", self.admin_site.admin_view(self.end_view), name="mentorship_match_end")]
        return custom + super().get_urls()

    def end_view(self, request, match_id):
        match = get_object_or_404(Match.objects.select_related("program", "mentor", "mentee"), pk=match_id)
        if not self.has_change_permission(request, match):
            raise PermissionDenied
        change_url = reverse("admin:mentorship_match_change", args=[match.pk])
        if match.status != MatchStatus.ACTIVE:
            messages.error(request, f"Only an active match can end; this one is {match.get_status_display().lower()}.")
            return HttpResponseRedirect(change_url)
        form = EndMatchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                match_end(
                    match=match,
                    end_reason=form.cleaned_data["end_reason"],
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
            except DomainError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"The match of {_pair(match)} ended.")
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": "End a match",
            "match": match,
            "form": form,
            "change_url": change_url,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/mentorship/match/end.html", context)


# --- Progress records (read-only) ---------------------------------------------------------------


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ("at", "by", "match", "mood", "source", "notes_short")
    list_filter = ("source", "mood", "match__program")
    search_fields = ("by__email", "by__full_name", "notes")
    list_select_related = ("by", "match__mentor", "match__mentee")
    date_hierarchy = "at"
    readonly_fields = ("match", "by", "mood", "notes", "at", "source", "external_id", "created_at")
    fields = readonly_fields

    @admin.display(description="Notes")
    def notes_short(self, obj) -> str:
        return obj.notes if len(obj.notes) <= 80 else obj.notes[:79] + "…"


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("at", "author", "match", "rating", "source", "comment")
    list_filter = ("source", "rating", "match__program")
    search_fields = ("author__email", "author__full_name", "comment")
    list_select_related = ("author", "match__mentor", "match__mentee")
    date_hierarchy = "at"
    readonly_fields = ("match", "author", "rating", "comment", "at", "source", "external_id", "created_at")
    fields = readonly_fields


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdmin):
    list_display = ("reached_at", "user", "program", "key", "title", "source")
    list_filter = ("program", "source", "key")
    search_fields = ("user__email", "user__full_name", "key", "title")
    list_select_related = ("user", "program")
    date_hierarchy = "reached_at"
    readonly_fields = ("user", "program", "key", "title", "reached_at", "source", "external_id", "created_at")
    fields = readonly_fields


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "user", "program", "kind", "title", "duration_minutes", "source")
    list_filter = ("program", "kind", "source")
    search_fields = ("user__email", "user__full_name", "title", "external_id")
    list_select_related = ("user", "program")
    date_hierarchy = "occurred_at"
    readonly_fields = (
        "program",
        "user",
        "match",
        "kind",
        "title",
        "occurred_at",
        "duration_minutes",
        "source",
        "external_id",
        "created_at",
    )
    fields = readonly_fields


# --- The program list links each matching program's review screen -------------------------------
# Mentorship extends the program admin of the layer below (as enrollments does) instead of
# programs reaching up.

_ProgramAdmin = type(admin.site.get_model_admin(Program))


class ProgramWithMatchingAdmin(_ProgramAdmin):
    list_display = (*_ProgramAdmin.list_display, "matching_link")

    @admin.display(description="Matching")
    def matching_link(self, obj) -> str:
        if not obj.template.supports_matching:
            return "-"
        return format_html('<a href="{}">Proposal review</a>', review_url(obj.pk))


admin.site.unregister(Program)
admin.site.register(Program, ProgramWithMatchingAdmin)
