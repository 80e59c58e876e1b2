from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm
from django.db.models import Count, Q

from core.admin import AuditTrailMixin, ServiceAdminMixin, pretty_json, status_action
from enrollments.enums import HOLDS_A_PLACE, EnrollmentStatus
from enrollments.models import Enrollment, JourneyFlags, Outcome
from enrollments.services import enrollment_create, enrollment_set_status, outcome_record
from programs.admin import CampaignAdmin, ProgramAdmin
from programs.models import Campaign, Program


class EnrollmentActionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason", help_text="Recorded in the audit trail.")


class EnrollmentForm(forms.ModelForm):
    class Meta:
        model = Enrollment
        fields = ["user", "program", "campaign", "role", "source_system"]

    def clean(self):
        cleaned = super().clean()
        program, campaign, role = cleaned.get("program"), cleaned.get("campaign"), cleaned.get("role")
        if program is not None and role and role not in program.template.role_names:
            self.add_error("role", f"Roles of this program: {', '.join(program.template.role_names)}.")
        if program is not None and campaign is not None and campaign.program_id != program.pk:
            self.add_error("campaign", "This campaign belongs to another program.")
        return cleaned


def _set_status(enrollment, status, actor, reason):
    return enrollment_set_status(enrollment=enrollment, status=status, reason=reason, actor=actor)


@admin.register(Enrollment)
class EnrollmentAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    form = EnrollmentForm
    action_form = EnrollmentActionForm
    list_display = ("user", "program", "role", "campaign", "status", "source_system", "enrolled_at")
    list_filter = ("status", "program_type", "source_system", "program")
    search_fields = ("user__email", "program__name", "program__program_key", "role")
    list_select_related = ("user", "program", "campaign")
    autocomplete_fields = ("user",)
    date_hierarchy = "enrolled_at"
    actions = [
        status_action(
            name, to=status, description=description, done=f"{done} {{count}} enrollment(s).", apply=_set_status
        )
        for name, status, description, done in (
            ("complete", EnrollmentStatus.COMPLETED, "Complete selected enrollments", "Completed"),
            ("drop", EnrollmentStatus.DROPPED, "Drop selected enrollments", "Dropped"),
            (
                "reactivate",
                EnrollmentStatus.ACTIVE,
                "Reactivate selected dropped enrollments (reason required)",
                "Reactivated",
            ),
        )
    ]

    def get_readonly_fields(self, request, obj=None):
        base = [
            "status",
            "program_type",
            "beneficiary_group",
            "enrolled_at",
            "completed_at",
            "dropped_at",
            "reason",
            "audit_trail",
        ]
        if obj is not None:
            return ["user", "program", "campaign", "role", "source_system", *base]
        return base

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field is read-only; status changes go through the actions
        saved = enrollment_create(
            user=form.cleaned_data["user"],
            program=form.cleaned_data["program"],
            campaign=form.cleaned_data.get("campaign"),
            role=form.cleaned_data["role"],
            source_system=form.cleaned_data["source_system"],
            actor=request.user,
            reason="enrolled in the admin",
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JourneyFlags)
class JourneyFlagsAdmin(admin.ModelAdmin):
    list_display = ("user", "programs_count", "updated_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    readonly_fields = ("user", "flags_pretty", "updated_at")
    exclude = ("flags",)

    @admin.display(description="Programs")
    def programs_count(self, obj) -> int:
        return obj.flags.get("programs_count", 0)

    @admin.display(description="Flags")
    def flags_pretty(self, obj):
        return pretty_json(obj.flags)

    def has_add_permission(self, request):
        return False


OUTCOME_FORM_FIELDS = ["outcome_type", "occurred_on", "amount", "currency", "evidence_url", "notes"]


class OutcomeForm(forms.ModelForm):
    evidence_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Outcome
        fields = ["program", "enrollment", *OUTCOME_FORM_FIELDS]

    def clean(self):
        cleaned = super().clean()
        program, enrollment = cleaned.get("program"), cleaned.get("enrollment")
        if program is not None and enrollment is not None and enrollment.program_id != program.pk:
            self.add_error("enrollment", "This enrollment belongs to another program.")
        return cleaned


@admin.register(Outcome)
class OutcomeAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    """Outcomes are recorded here or through the API (one or a list); once recorded they are read-only."""

    form = OutcomeForm
    list_display = ("participant", "program", "outcome_type", "occurred_on", "money", "recorded_by")
    list_filter = ("outcome_type", "program")
    search_fields = ("enrollment__user__email", "program__name", "notes")
    list_select_related = ("enrollment__user", "program", "recorded_by")
    autocomplete_fields = ("enrollment",)
    date_hierarchy = "occurred_on"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["program", "enrollment", *OUTCOME_FORM_FIELDS, "recorded_by", "audit_trail"]
        return ["audit_trail"]

    @admin.display(description="Participant", ordering="enrollment__user__email")
    def participant(self, obj) -> str:
        return str(obj.enrollment.user)

    @admin.display(description="Amount")
    def money(self, obj) -> str:
        return f"{obj.amount} {obj.currency}" if obj.amount is not None else "-"

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field is read-only once recorded
        data = {f: form.cleaned_data.get(f) for f in OUTCOME_FORM_FIELDS}
        for text in ("currency", "evidence_url", "notes"):
            data[text] = data[text] or ""
        saved = outcome_record(
            program=form.cleaned_data["program"],
            enrollment=form.cleaned_data["enrollment"],
            actor=request.user,
            **data,
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False


# Enrollment counts on the program and campaign pages: enrollments extends the admin of the
# layer below it instead of programs reaching up.
_places = Count("enrollments", filter=Q(enrollments__status__in=HOLDS_A_PLACE), distinct=True)


class ProgramWithEnrollmentsAdmin(ProgramAdmin):
    list_display = (*ProgramAdmin.list_display, "enrollment_count")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_enrolled=Count("enrollments", filter=Q(enrollments__status=EnrollmentStatus.ACTIVE)))
        )

    @admin.display(description="Active enrollments", ordering="_enrolled")
    def enrollment_count(self, obj) -> int:
        return obj._enrolled


class CampaignWithEnrollmentsAdmin(CampaignAdmin):
    list_display = (*CampaignAdmin.list_display, "places_taken")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_taken=_places)

    @admin.display(description="Places taken", ordering="_taken")
    def places_taken(self, obj) -> str:
        return f"{obj._taken} / {obj.max_enrollment}"


admin.site.unregister(Program)
admin.site.register(Program, ProgramWithEnrollmentsAdmin)
admin.site.unregister(Campaign)
admin.site.register(Campaign, CampaignWithEnrollmentsAdmin)
