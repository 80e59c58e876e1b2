from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.contrib.auth.forms import UserCreationForm as DjangoUserCreationForm
from django.db import models

from accounts.models import ApiToken, Company, CompanyMembership, ExternalIdentity, User
from accounts.services import (
    USER_ADMIN_FIELDS,
    api_token_issue,
    api_token_revoke,
    company_create,
    company_update,
    user_create_or_update,
    user_set_groups,
    user_update,
)
from core.admin import AuditTrailMixin, ServiceAdminMixin
from core.middleware import valid_timezone


class UserCreationForm(DjangoUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_timezone(self):
        value = self.cleaned_data.get("timezone", "")
        if value and valid_timezone(value) is None:
            raise forms.ValidationError(f"'{value}' is not an IANA time zone.")
        return value


class MembershipInline(admin.TabularInline):
    model = CompanyMembership
    extra = 0
    autocomplete_fields = ("company",)
    fields = ("company", "kind", "created_at")
    readonly_fields = ("created_at",)


class ExternalIdentityInline(admin.TabularInline):
    model = ExternalIdentity
    extra = 0
    fields = ("provider", "external_id", "created_at")
    readonly_fields = ("created_at",)


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    extra = 0
    fields = ("prefix", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(ServiceAdminMixin, AuditTrailMixin, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "role_list", "is_staff", "is_active", "date_joined")
    list_filter = ("groups", "is_staff", "is_superuser", "is_active")
    search_fields = ("email", "full_name", "external_identities__external_id")
    readonly_fields = ("last_login", "date_joined", "audit_trail")
    inlines = [MembershipInline, ExternalIdentityInline, ApiTokenInline]
    actions = ["issue_token"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "timezone")}),
        ("Roles and access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
        ("Audit", {"fields": ("audit_trail",)}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_inline_instances(self, request, obj=None):
        # Adding a user is e-mail and password only; memberships and identities come after.
        return super().get_inline_instances(request, obj) if obj is not None else []

    def save_model(self, request, obj, form, change):
        # Through the services, so every change is audited (passwords have their own admin form).
        if change:
            data = {f: form.cleaned_data[f] for f in USER_ADMIN_FIELDS if f in form.changed_data}
            user_update(user=obj, data=data, actor=request.user)
            return
        saved, _ = user_create_or_update(
            email=form.cleaned_data["email"], password=form.cleaned_data.get("password1"), actor=request.user
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        groups = form.cleaned_data.pop("groups", None)
        super().save_related(request, form, formsets, change)
        if groups is not None:
            user_set_groups(user=form.instance, groups=list(groups), actor=request.user)

    @admin.display(description="Roles")
    def role_list(self, obj) -> str:
        return ", ".join(sorted(g.name for g in obj.groups.all())) or "-"

    @admin.action(description="Issue an API token (shown once)", permissions=["change"])
    def issue_token(self, request, queryset):
        for user in queryset:
            _, key = api_token_issue(user=user, name="admin", actor=request.user)
            self.message_user(
                request,
                f"Token for {user.email} (copy it now, it is not shown again): {key}",
                level=messages.WARNING,
            )


COMPANY_FORM_FIELDS = ("name", "description", "country", "website", "is_active")


@admin.register(Company)
class CompanyAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    list_display = ("name", "key", "country", "is_active", "member_count")
    list_filter = ("is_active", "country")
    search_fields = ("name", "key")
    prepopulated_fields = {"key": ("name",)}
    readonly_fields = ("audit_trail", "created_at", "updated_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request, obj=None):
        # The key identifies the company to partner systems; the service never changes it.
        return ("key", *self.readonly_fields) if obj else self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj else super().get_prepopulated_fields(request, obj)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in COMPANY_FORM_FIELDS if f in form.cleaned_data}
        if change:
            # The form has already copied its values onto `obj`; the service compares with the stored row.
            saved = company_update(company=Company.objects.get(pk=obj.pk), data=data, actor=request.user)
        else:
            is_active = data.pop("is_active", True)
            saved = company_create(key=form.cleaned_data["key"], actor=request.user, **data)
            if not is_active:
                saved = company_update(company=saved, data={"is_active": False}, actor=request.user)
        obj.pk = saved.pk
        obj._state.adding = False

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description="Members", ordering="_members")
    def member_count(self, obj) -> int:
        return obj._members


@admin.register(CompanyMembership)
class CompanyMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "company", "kind", "created_at")
    list_filter = ("kind", "company")
    search_fields = ("user__email", "company__name")
    autocomplete_fields = ("user", "company")
    list_select_related = ("user", "company")


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    list_display = ("provider", "external_id", "user", "created_at")
    list_filter = ("provider",)
    search_fields = ("external_id", "user__email")
    autocomplete_fields = ("user",)
    list_select_related = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("prefix", "user__email", "name")
    list_select_related = ("user",)
    readonly_fields = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token, actor=request.user, reason="revoked in the admin")
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", level=messages.SUCCESS)
