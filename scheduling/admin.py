from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm
from django.db.models import Count, Q

from core.admin import AuditTrailMixin, ServiceAdminMixin, status_action
from scheduling.enums import CohortMemberStatus, CohortStatus
from scheduling.models import Cohort, CohortMember
from scheduling.services import cohort_create, cohort_member_remove, cohort_set_status, cohort_update

COHORT_FORM_FIELDS = ["name", "track", "starts_on", "ends_on", "capacity"]

_active = Count("members", filter=Q(members__status=CohortMemberStatus.ACTIVE))


class ReasonActionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason", help_text="Recorded in the audit trail.")


def _set_cohort_status(cohort, status, actor, reason):
    return cohort_set_status(cohort=cohort, status=status, actor=actor, reason=reason)


def _remove_member(member, status, actor, reason):
    return cohort_member_remove(member=member, actor=actor, reason=reason)


class CohortMemberInline(admin.TabularInline):
    model = CohortMember
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("participant", "status", "joined_at", "left_at", "reason")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("enrollment__user")

    @admin.display(description="Participant")
    def participant(self, obj) -> str:
        return str(obj.enrollment.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CohortForm(forms.ModelForm):
    class Meta:
        model = Cohort
        fields = ["program", *COHORT_FORM_FIELDS]

    def clean(self):
        cleaned = super().clean()
        program = cleaned.get("program") or (self.instance.program if self.instance.pk else None)
        track = cleaned.get("track")
        if program is not None and track is not None and track.program_id != program.pk:
            self.add_error("track", "This track belongs to another program.")
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "A cohort cannot end before it starts.")
        return cleaned


@admin.register(Cohort)
class CohortAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    form = CohortForm
    action_form = ReasonActionForm
    list_display = ("name", "program", "track", "starts_on", "ends_on", "status", "places")
    list_filter = ("status", "program")
    search_fields = ("name", "program__name", "program__program_key")
    list_select_related = ("program", "track")
    date_hierarchy = "starts_on"
    inlines = [CohortMemberInline]
    actions = [
        status_action(
            name,
            to=status,
            description=f"{label} selected cohorts",
            done=f"{done} {{count}} cohort(s).",
            apply=_set_cohort_status,
            default_reason="admin action",
        )
        for name, status, label, done in (
            ("activate", CohortStatus.ACTIVE, "Activate", "Activated"),
            ("complete", CohortStatus.COMPLETED, "Complete", "Completed"),
            ("cancel", CohortStatus.CANCELLED, "Cancel", "Cancelled"),
        )
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_active=_active)

    def get_readonly_fields(self, request, obj=None):
        base = ["status", "places", "audit_trail"]
        return ["program", *base] if obj else base

    @admin.display(description="Active / capacity", ordering="_active")
    def places(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "-"
        active = getattr(obj, "_active", None)
        if active is None:
            active = obj.members.filter(status=CohortMemberStatus.ACTIVE).count()
        return f"{active} / {obj.capacity}"

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in COHORT_FORM_FIELDS if f in form.cleaned_data}
        if change:
            saved = cohort_update(cohort=obj, data=data, actor=request.user)
        else:
            saved = cohort_create(program=form.cleaned_data["program"], actor=request.user, **data)
        obj.pk = saved.pk
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CohortMember)
class CohortMemberAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    """Memberships are made through the API or the applications flow; here they are read and,
    with the action, removed (dropped, the enrollment stays active)."""

    action_form = ReasonActionForm
    list_display = ("participant", "cohort", "status", "joined_at", "left_at")
    list_filter = ("status", "cohort__program")
    search_fields = ("enrollment__user__email", "cohort__name")
    list_select_related = ("enrollment__user", "cohort")
    readonly_fields = ("cohort", "enrollment", "status", "joined_at", "left_at", "reason", "audit_trail")
    fields = readonly_fields
    actions = [
        status_action(
            "remove",
            to=CohortMemberStatus.DROPPED,
            description="Remove selected members from their cohort (the enrollment stays active)",
            done="Removed {count} member(s).",
            apply=_remove_member,
        )
    ]

    @admin.display(description="Participant", ordering="enrollment__user__email")
    def participant(self, obj) -> str:
        return str(obj.enrollment.user)

    def save_model(self, request, obj, form, change):
        return  # every field is read-only; removal goes through the action

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
