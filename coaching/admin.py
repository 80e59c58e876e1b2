"""The operators' coach screens.

- Pursuits: a filterable list (person, title, state, momentum, deadline, internal or external);
  read-mostly: the one change is the trust score of an external pursuit, saved through
  `pursuit_update` (momentum follows, the audit trail records it). Internal pursuits take their
  program's trust (Program trust below).
- Check-in tasks and coach settings: read-only.
- Program trust: how much the coach trusts a program's opportunities (0-1; 0.8 without a row).
  Momentum of the program's pursuits follows at the next daily recompute.

Nothing here deletes a row.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import F

from coaching.forms import ProgramTrustAdminForm, PursuitAdminForm
from coaching.models import CheckInTask, CoachSettings, ProgramTrust, Pursuit
from coaching.services import pursuit_update
from core import clock
from core.admin import AuditTrailMixin, ServiceAdminMixin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OriginFilter(admin.SimpleListFilter):
    title = "origin"
    parameter_name = "origin"

    def lookups(self, request, model_admin):
        return [("internal", "On this platform"), ("external", "External")]

    def queryset(self, request, queryset):
        if self.value() == "internal":
            return queryset.filter(application__isnull=False)
        if self.value() == "external":
            return queryset.filter(application__isnull=True)
        return queryset


class DeadlineFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("ahead", "Still ahead"), ("passed", "Passed"), ("none", "No deadline")]

    def queryset(self, request, queryset):
        now = clock.now()
        if self.value() == "ahead":
            return queryset.filter(deadline__gt=now)
        if self.value() == "passed":
            return queryset.filter(deadline__lte=now)
        if self.value() == "none":
            return queryset.filter(deadline__isnull=True)
        return queryset


PURSUIT_FIELDS = (
    "user",
    "origin",
    "application",
    "title",
    "url",
    "deadline",
    "award_amount",
    "award_currency",
    "application_type",
    "coach_state",
    "pending_state",
    "momentum_score",
    "submitted_at",
    "last_progress_at",
    "confirmed_at",
    "created_at",
)


@admin.register(Pursuit)
class PursuitAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    form = PursuitAdminForm
    list_display = ("user", "title", "coach_state", "momentum_score", "deadline", "origin")
    list_filter = ("coach_state", OriginFilter, DeadlineFilter, "application_type")
    search_fields = ("title", "user__email", "user__full_name")
    list_select_related = ("user",)
    date_hierarchy = "deadline"
    ordering = (F("momentum_score").desc(nulls_last=True), "deadline")

    @admin.display(description="Origin", ordering="application")
    def origin(self, obj) -> str:
        return "On this platform" if obj.application_id else "External"

    def get_fields(self, request, obj=None):
        return [*PURSUIT_FIELDS[:-1], "trust_score", "created_at", "audit_trail"]

    def get_readonly_fields(self, request, obj=None):
        fixed = [*PURSUIT_FIELDS, "audit_trail"]
        if obj is None or obj.is_internal:
            fixed.append("trust_score")
        return fixed

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and obj.is_internal and "trust_score" in form.base_fields:
            del form.base_fields["trust_score"]
        return form

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "trust_score" not in form.changed_data:
            return
        updated = pursuit_update(
            pursuit=obj, user=None, data={"trust_score": form.cleaned_data["trust_score"]}, actor=request.user
        )
        obj.trust_score, obj.momentum_score = updated.trust_score, updated.momentum_score


@admin.register(CheckInTask)
class CheckInTaskAdmin(ReadOnlyAdmin):
    list_display = ("user", "pursuit_title", "due_at", "status", "outcome", "completed_at")
    list_filter = ("status", "outcome")
    search_fields = ("user__email", "pursuit__title")
    list_select_related = ("user", "pursuit")
    date_hierarchy = "due_at"

    @admin.display(description="Pursuit", ordering="pursuit__title")
    def pursuit_title(self, obj) -> str:
        return obj.pursuit.title


@admin.register(CoachSettings)
class CoachSettingsAdmin(ReadOnlyAdmin):
    list_display = ("user", "snoozed_until", "updated_at")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    list_filter = (("snoozed_until", admin.EmptyFieldListFilter),)


@admin.register(ProgramTrust)
class ProgramTrustAdmin(admin.ModelAdmin):
    form = ProgramTrustAdminForm
    list_display = ("program", "trust_score", "updated_at")
    list_select_related = ("program",)
    search_fields = ("program__name",)

    def has_delete_permission(self, request, obj=None):
        return False
