from django import forms
from django.contrib import admin

from core.admin import AuditTrailMixin, ServiceAdminMixin, pretty_json
from templates_app.enums import TemplateStatus
from templates_app.models import ProgramTemplate
from templates_app.services import (
    EDITABLE_FIELDS,
    template_archive,
    template_create,
    template_definition_errors,
    template_new_version,
    template_publish,
    template_update,
)


class ProgramTemplateForm(forms.ModelForm):
    class Meta:
        model = ProgramTemplate
        fields = ["template_key", *EDITABLE_FIELDS]

    def clean(self):
        cleaned = super().clean()
        data = {field: cleaned.get(field) for field in EDITABLE_FIELDS if field in cleaned}
        merged = {field: getattr(self.instance, field) for field in EDITABLE_FIELDS} | data
        for path, message in template_definition_errors(merged).items():
            field = path.split("/")[0]
            target = field if field in self.fields else None
            self.add_error(target, f"{path}: {message}" if target and path != field else message)
        return cleaned


@admin.register(ProgramTemplate)
class ProgramTemplateAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    form = ProgramTemplateForm
    list_display = ("name", "template_key", "version", "category", "status", "published_at")
    list_filter = ("status", "category", "supports_matching")
    search_fields = ("name", "template_key", "description")
    ordering = ("template_key", "-version")
    actions = ["publish", "publish_deprecating_previous", "new_version", "archive"]
    list_select_related = ("deprecated_by",)

    def get_readonly_fields(self, request, obj=None):
        base = ["version", "status", "deprecated_by", "published_at", "deprecated_at", "audit_trail"]
        if obj is not None and obj.status != TemplateStatus.DRAFT:
            return [
                "template_key",
                *[f for f in EDITABLE_FIELDS if f not in ("default_config", "config_schema")],
                "default_config_pretty",
                "config_schema_pretty",
                *base,
            ]
        if obj is not None:
            return ["template_key", *base]
        return base

    def get_fields(self, request, obj=None):
        if obj is not None and obj.status != TemplateStatus.DRAFT:
            return [f for f in self.get_readonly_fields(request, obj) if f != "audit_trail"] + ["audit_trail"]
        return super().get_fields(request, obj)

    @admin.display(description="Default config")
    def default_config_pretty(self, obj):
        return pretty_json(obj.default_config)

    @admin.display(description="Config schema")
    def config_schema_pretty(self, obj):
        return pretty_json(obj.config_schema)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in EDITABLE_FIELDS if f in form.cleaned_data}
        if change:
            saved = template_update(template=obj, data=data, actor=request.user)
        else:
            name = data.pop("name")
            saved = template_create(
                template_key=form.cleaned_data["template_key"], name=name, actor=request.user, **data
            )
        obj.pk = saved.pk
        obj._state.adding = False

    @admin.action(description="Publish selected drafts", permissions=["change"])
    def publish(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda t: template_publish(template=t, actor=request.user),
            "Published {count} template(s).",
        )

    @admin.action(
        description="Publish selected drafts and deprecate their previous versions",
        permissions=["change"],
    )
    def publish_deprecating_previous(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda t: template_publish(template=t, deprecate_previous=True, actor=request.user),
            "Published {count} template(s); previous versions deprecated.",
        )

    @admin.action(description="Start a new version (draft) of selected templates", permissions=["add"])
    def new_version(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda t: template_new_version(template=t, actor=request.user),
            "Created {count} new draft version(s).",
        )

    @admin.action(description="Archive selected templates", permissions=["change"])
    def archive(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda t: template_archive(template=t, actor=request.user, reason="archived in the admin"),
            "Archived {count} template(s).",
        )

    def has_delete_permission(self, request, obj=None):
        # Deleting goes through the service (used templates are protected); the admin archives.
        return False

    def has_change_permission(self, request, obj=None):
        # Published versions are immutable (programs rely on them): their page is view-only, so
        # there is no Save button that could only fail. Actions still apply to the list.
        if obj is not None and obj.status != TemplateStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)
