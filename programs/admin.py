from django import forms
from django.contrib import admin

from core.admin import AuditTrailMixin, ServiceAdminMixin, pretty_json, status_action
from programs.enums import CampaignStatus, ProgramStatus
from programs.models import BeneficiaryGroup, Campaign, Program
from programs.services import (
    PROGRAM_EDITABLE,
    beneficiary_group_create,
    beneficiary_group_update,
    campaign_create,
    campaign_update,
    program_config_errors,
    program_create,
    program_set_status,
    program_update,
)
from templates_app.config import config_errors, deep_merge
from templates_app.enums import TemplateStatus
from templates_app.models import ProgramTemplate


def _set_program_status(program, status, actor, reason):
    return program_set_status(program=program, status=status, actor=actor, reason=reason)


def _set_campaign_status(campaign, status, actor, reason):
    return campaign_update(campaign=campaign, data={"status": status}, actor=actor, reason=reason)


@admin.register(BeneficiaryGroup)
class BeneficiaryGroupAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    list_display = ("name", "key", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "key", "description")
    prepopulated_fields = {"key": ("name",)}
    readonly_fields = ("audit_trail",)

    def get_readonly_fields(self, request, obj=None):
        return ("key", "audit_trail") if obj else ("audit_trail",)

    def get_prepopulated_fields(self, request, obj=None):
        # The key is read-only once saved; prepopulating a field missing from the form crashes.
        return {} if obj else super().get_prepopulated_fields(request, obj)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in ("name", "description", "tags", "countries", "languages", "is_active")}
        if change:
            saved = beneficiary_group_update(group=obj, data=data, actor=request.user)
        else:
            saved = beneficiary_group_create(key=form.cleaned_data["key"], actor=request.user, **data)
        obj.pk = saved.pk
        obj._state.adding = False


class CampaignInline(admin.TabularInline):
    model = Campaign
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("name", "company", "status", "target_enrollment", "max_enrollment", "starts_on", "ends_on")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = ["template", "program_key", *PROGRAM_EDITABLE]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "template" in self.fields:
            self.fields["template"].queryset = ProgramTemplate.objects.filter(status=TemplateStatus.ACTIVE)
        if "program_key" in self.fields:
            self.fields["program_key"].required = False
            self.fields["program_key"].help_text = "Leave empty to derive it from the name."

    def clean(self):
        cleaned = super().clean()
        template = cleaned.get("template") or (self.instance.template if self.instance.pk else None)
        overrides = cleaned.get("config_overrides")
        if template is not None and overrides is not None:
            for path, message in program_config_errors(template, overrides).items():
                self.add_error("config_overrides", f"{path}: {message}")
        return cleaned


@admin.register(Program)
class ProgramAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    form = ProgramForm
    list_display = ("name", "program_key", "program_type", "template_version", "beneficiary_group", "status")
    list_filter = ("status", "program_type", "beneficiary_group")
    search_fields = ("name", "program_key", "description")
    list_select_related = ("template", "beneficiary_group")
    inlines = [CampaignInline]
    actions = [
        status_action(
            name,
            to=status,
            description=f"{label} selected programs",
            done=f"{done} {{count}} program(s).",
            apply=_set_program_status,
            default_reason="admin action",
        )
        for name, status, label, done in (
            ("activate", ProgramStatus.ACTIVE, "Activate", "Activated"),
            ("pause", ProgramStatus.PAUSED, "Pause", "Paused"),
            ("close", ProgramStatus.CLOSED, "Close", "Closed"),
            ("archive", ProgramStatus.ARCHIVED, "Archive", "Archived"),
        )
    ]
    autocomplete_fields = ("beneficiary_group",)

    def get_readonly_fields(self, request, obj=None):
        base = ["status", "program_type", "config_pretty", "audit_trail"]
        if obj is not None:
            return ["template", "program_key", *base]
        return base

    @admin.display(description="Template", ordering="template__version")
    def template_version(self, obj) -> str:
        return f"{obj.template.template_key} v{obj.template.version}"

    @admin.display(description="Effective config")
    def config_pretty(self, obj):
        return pretty_json(obj.config)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in PROGRAM_EDITABLE if f in form.cleaned_data}
        if change:
            saved = program_update(program=obj, data=data, actor=request.user)
        else:
            saved = program_create(
                template=form.cleaned_data["template"],
                program_key=form.cleaned_data.get("program_key") or None,
                actor=request.user,
                **data,
            )
        obj.pk = saved.pk
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False


CAMPAIGN_FORM_FIELDS = [
    "name",
    "target_enrollment",
    "max_enrollment",
    "budget_amount",
    "budget_currency",
    "config_overrides",
    "starts_on",
    "ends_on",
]


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["program", "company", *CAMPAIGN_FORM_FIELDS]

    def clean(self):
        cleaned = super().clean()
        program = cleaned.get("program") or (self.instance.program if self.instance.pk else None)
        overrides = cleaned.get("config_overrides")
        if program is not None and isinstance(overrides, dict):
            merged = deep_merge(program.config, overrides)
            for path, message in config_errors(
                program.template.config_schema, merged, prefix="config_overrides"
            ).items():
                self.add_error("config_overrides", f"{path}: {message}")
        target, maximum = cleaned.get("target_enrollment"), cleaned.get("max_enrollment")
        if target is not None and maximum is not None and maximum < target:
            self.add_error("max_enrollment", "The maximum must be at least the target.")
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    form = CampaignForm
    list_display = ("name", "program", "company", "status", "target_enrollment", "max_enrollment", "budget")
    list_filter = ("status", "program__program_type", "company")
    search_fields = ("name", "program__name", "company__name")
    list_select_related = ("program", "company")
    autocomplete_fields = ("company",)
    actions = [
        status_action(
            name,
            to=status,
            description=f"{label} selected campaigns",
            done=f"{done} {{count}} campaign(s).",
            apply=_set_campaign_status,
            default_reason="admin action",
        )
        for name, status, label, done in (
            ("activate", CampaignStatus.ACTIVE, "Activate", "Activated"),
            ("pause", CampaignStatus.PAUSED, "Pause", "Paused"),
            ("complete", CampaignStatus.COMPLETED, "Complete", "Completed"),
            ("cancel", CampaignStatus.CANCELLED, "Cancel", "Cancelled"),
        )
    ]

    def get_readonly_fields(self, request, obj=None):
        base = ["status", "config_pretty", "audit_trail"]
        return ["program", "company", *base] if obj else base

    @admin.display(description="Budget")
    def budget(self, obj) -> str:
        return f"{obj.budget_amount} {obj.budget_currency}" if obj.budget_amount is not None else "-"

    @admin.display(description="Effective config")
    def config_pretty(self, obj):
        return pretty_json(obj.config)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in CAMPAIGN_FORM_FIELDS if f in form.cleaned_data}
        if change:
            saved = campaign_update(campaign=obj, data=data, actor=request.user)
        else:
            saved = campaign_create(
                program=form.cleaned_data["program"],
                company=form.cleaned_data["company"],
                actor=request.user,
                **data,
            )
        obj.pk = saved.pk
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False
