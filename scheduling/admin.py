from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import AuditTrailMixin, ServiceAdminMixin, domain_error_text, status_action
from core.errors import DomainError, ValidationFailed
from core.middleware import valid_timezone
from scheduling.enums import (
    AttendanceStatus,
    CohortMemberStatus,
    CohortStatus,
    ConfirmationStatus,
    RegistrationStatus,
    SessionStatus,
)
from scheduling.models import (
    Attendance,
    AvailabilityWindow,
    Cohort,
    CohortMember,
    HostConfirmation,
    Registration,
    Session,
)
from scheduling.selectors import session_registrations, waitlist_position
from scheduling.services import (
    attendance_record,
    cohort_create,
    cohort_member_remove,
    cohort_set_status,
    cohort_update,
    registration_cancel,
    session_cancel,
    session_create,
    session_deliver,
    session_update,
)

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


# --- Sessions -----------------------------------------------------------------------------------

SESSION_CHANGE_FIELDS = [
    "title",
    "description",
    "starts_at",
    "ends_at",
    "timezone",
    "capacity",
    "host",
    "online",
    "location",
    "open_registration",
]
SESSION_ADD_FIELDS = ["program", "cohort", "kind", *SESSION_CHANGE_FIELDS]
BY_KIND = ""
OPEN_CHOICES = [
    (BY_KIND, "By kind (live events and office hours are open)"),
    ("open", "Open: anyone signed in may register"),
    ("invited", "Invited only"),
]


def _local(value: datetime, zone_name: str) -> str:
    zone = valid_timezone(zone_name) or ZoneInfo("UTC")
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


class WallClockField(forms.SplitDateTimeField):
    """A date and a time as typed, without a zone: the session form places it in the session's
    time zone (not the viewer's), so 18:00 means 18:00 where the session happens."""

    def compress(self, data_list):
        if not data_list:
            return None
        day, time = data_list
        if day in self.empty_values:
            raise forms.ValidationError(self.error_messages["invalid_date"], code="invalid_date")
        if time in self.empty_values:
            raise forms.ValidationError(self.error_messages["invalid_time"], code="invalid_time")
        return datetime.combine(day, time)


class SessionForm(forms.ModelForm):
    starts_at = WallClockField(widget=AdminSplitDateTime, help_text="Local time in the session's time zone.")
    ends_at = WallClockField(widget=AdminSplitDateTime, help_text="Local time in the session's time zone.")

    class Meta:
        model = Session
        fields = SESSION_ADD_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            zone = valid_timezone(self.instance.timezone) or ZoneInfo("UTC")
            for name in ("starts_at", "ends_at"):
                self.initial[name] = getattr(self.instance, name).astimezone(zone).replace(tzinfo=None)
        else:
            if "timezone" in self.fields:
                self.fields["timezone"].required = False
                self.fields["timezone"].help_text = "IANA zone (e.g. Europe/Kyiv); empty: the program's."
            if "open_registration" in self.fields:
                self.fields["open_registration"] = forms.TypedChoiceField(
                    choices=OPEN_CHOICES,
                    required=False,
                    coerce=lambda value: {"open": True, "invited": False}.get(value),
                    empty_value=None,
                    label="Registration",
                )

    def clean(self):
        cleaned = super().clean()
        program = cleaned.get("program") or (None if self.instance._state.adding else self.instance.program)
        zone_name = cleaned.get("timezone") or (program.timezone if program is not None else "")
        zone = valid_timezone(zone_name)
        if zone is None:
            if zone_name:
                self.add_error("timezone", f"'{zone_name}' is not an IANA time zone (e.g. Europe/Kyiv).")
            return cleaned
        if "timezone" in self.fields:
            cleaned["timezone"] = zone_name
        for name in ("starts_at", "ends_at"):
            if isinstance(cleaned.get(name), datetime):
                cleaned[name] = cleaned[name].replace(tzinfo=zone)
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if isinstance(starts_at, datetime) and isinstance(ends_at, datetime) and ends_at <= starts_at:
            self.add_error("ends_at", "A session ends after it starts.")
        cohort = cleaned.get("cohort")
        if program is not None and cohort is not None and cohort.program_id != program.pk:
            self.add_error("cohort", "This cohort belongs to another program.")
        return cleaned


class RegistrationInline(admin.TabularInline):
    """Who holds a place: registered people first, then the waiting list in order."""

    model = Registration
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("participant", "status", "waitlist_position", "source", "registered_at", "waitlisted_at", "cancelled_at")
    readonly_fields = fields
    verbose_name_plural = "registrations (registered, then the waiting list in order)"

    def get_queryset(self, request):
        order = Case(
            When(status=RegistrationStatus.REGISTERED, then=Value(0)),
            When(status=RegistrationStatus.WAITLISTED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(position=waitlist_position(), rank=order)
            .order_by("rank", "registered_at", "waitlisted_at", "cancelled_at", "id")
        )

    @admin.display(description="Participant")
    def participant(self, obj) -> str:
        return str(obj.user)

    @admin.display(description="Waitlist position")
    def waitlist_position(self, obj) -> str:
        position = getattr(obj, "position", None)
        return str(position) if position else "-"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class HostConfirmationInline(admin.TabularInline):
    model = HostConfirmation
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("host", "status", "deadline", "decided_at", "reason", "created_at")
    readonly_fields = fields
    verbose_name_plural = "host confirmations"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("host").order_by("-created_at", "-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ConfirmationFilter(admin.SimpleListFilter):
    title = "host confirmation"
    parameter_name = "confirmation"

    def lookups(self, request, model_admin):
        return [*ConfirmationStatus.choices, ("none", "No request")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(_confirmation__isnull=True)
        if value in ConfirmationStatus.values:
            return queryset.filter(_confirmation=value)
        return queryset


def _cancel(session, status, actor, reason):
    return session_cancel(session=session, reason=reason, actor=actor)


def _deliver(session, status, actor, reason):
    return session_deliver(session=session, actor=actor, reason=reason)


def _deliver_skipping(session, status, actor, reason):
    return session_deliver(session=session, actor=actor, skip_attendance=True, reason=reason)


@admin.register(Session)
class SessionAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    """Sessions are scheduled and changed through the session services (host overlap checks,
    reschedule notices, meetings, confirmation requests); the list shows start times in the
    program's time zone; attendance is marked on the grid (`Attendance` link)."""

    form = SessionForm
    action_form = ReasonActionForm
    list_display = (
        "title",
        "program",
        "kind",
        "local_start",
        "status",
        "host",
        "places",
        "confirmation",
        "attendance_column",
    )
    list_filter = ("status", "kind", ConfirmationFilter, "program")
    search_fields = ("title", "program__name", "program__program_key", "host__email", "host__full_name")
    list_select_related = ("program", "host")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at",)
    autocomplete_fields = ("cohort", "host")
    inlines = [RegistrationInline, HostConfirmationInline]
    actions = [
        status_action(
            "cancel",
            to=SessionStatus.CANCELLED,
            description="Cancel selected sessions (give the reason above; participants are told)",
            done="Cancelled {count} session(s).",
            apply=_cancel,
        ),
        status_action(
            "deliver",
            to=SessionStatus.DELIVERED,
            description="Mark selected sessions delivered (attendance must be recorded)",
            done="Marked {count} session(s) delivered.",
            apply=_deliver,
        ),
        status_action(
            "deliver_skipping_attendance",
            to=SessionStatus.DELIVERED,
            description="Mark selected sessions delivered without attendance (skipped on purpose)",
            done="Marked {count} session(s) delivered, attendance skipped.",
            apply=_deliver_skipping,
        ),
    ]

    def get_queryset(self, request):
        newest = HostConfirmation.objects.filter(session_id=OuterRef("pk"), host_id=OuterRef("host_id")).order_by(
            "-created_at", "-id"
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                _registered=Count("registrations", filter=Q(registrations__status=RegistrationStatus.REGISTERED)),
                _confirmation=Subquery(newest.values("status")[:1]),
            )
        )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return SESSION_ADD_FIELDS
        return [
            "program",
            "cohort",
            "kind",
            *SESSION_CHANGE_FIELDS,
            "status",
            "local_times",
            "sequence",
            "series_id",
            "provider",
            "join_url",
            "integration_status",
            "integration_error",
            "cancel_reason",
            "cancelled_at",
            "delivered_at",
            "attendance_skipped",
            "attendance_link",
            "audit_trail",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = [
            "program",
            "cohort",
            "kind",
            "status",
            "local_times",
            "sequence",
            "series_id",
            "provider",
            "join_url",
            "integration_status",
            "integration_error",
            "cancel_reason",
            "cancelled_at",
            "delivered_at",
            "attendance_skipped",
            "attendance_link",
            "audit_trail",
        ]
        if obj.status != SessionStatus.SCHEDULED:  # only scheduled sessions change
            readonly[3:3] = SESSION_CHANGE_FIELDS
        return readonly

    # --- columns ---------------------------------------------------------------------------------

    @admin.display(description="Starts (program time)", ordering="starts_at")
    def local_start(self, obj) -> str:
        return _local(obj.starts_at, obj.program.timezone)

    @admin.display(description="Registered / capacity", ordering="_registered")
    def places(self, obj) -> str:
        registered = getattr(obj, "_registered", None)
        if registered is None:
            registered = obj.registrations.filter(status=RegistrationStatus.REGISTERED).count()
        return f"{registered} / {obj.capacity if obj.capacity is not None else '∞'}"

    @admin.display(description="Host confirmation", ordering="_confirmation")
    def confirmation(self, obj) -> str:
        value = getattr(obj, "_confirmation", None)
        return ConfirmationStatus(value).label if value else "-"

    @admin.display(description="Attendance")
    def attendance_column(self, obj) -> str:
        if obj.status == SessionStatus.CANCELLED:
            return "-"
        return format_html('<a href="{}">Grid</a>', reverse("admin:scheduling_session_attendance", args=[obj.pk]))

    @admin.display(description="Times")
    def local_times(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "-"
        return (
            f"{_local(obj.starts_at, obj.timezone)} – {_local(obj.ends_at, obj.timezone)} (session); "
            f"{_local(obj.starts_at, obj.program.timezone)} (program); "
            f"{obj.starts_at.isoformat()} (UTC)"
        )

    @admin.display(description="Attendance")
    def attendance_link(self, obj) -> str:
        if obj is None or obj.pk is None or obj.status == SessionStatus.CANCELLED:
            return "-"
        participants = Registration.objects.filter(session_id=obj.pk, status=RegistrationStatus.REGISTERED)
        registered = participants.count()
        recorded = Attendance.objects.filter(session_id=obj.pk, user_id__in=participants.values("user_id")).count()
        return format_html(
            '<a class="button" href="{}" data-testid="attendance-grid-link">Open the attendance grid</a> '
            "{} of {} registered participant(s) recorded.",
            reverse("admin:scheduling_session_attendance", args=[obj.pk]),
            recorded,
            registered,
        )

    # --- saving through the services -------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        cleaned = form.cleaned_data
        if change:
            current = Session.objects.get(pk=obj.pk)
            data = {}
            for field in SESSION_CHANGE_FIELDS:
                if field not in cleaned:
                    continue
                value = cleaned[field]
                if field == "host":
                    differs = (value.pk if value else None) != current.host_id
                else:
                    differs = value != getattr(current, field)
                if differs:
                    data[field] = value
            if data:
                session_update(session=current, data=data, actor=request.user)
            return
        saved = session_create(
            program=cleaned["program"],
            kind=cleaned["kind"],
            title=cleaned["title"],
            starts_at=cleaned["starts_at"],
            ends_at=cleaned["ends_at"],
            timezone=cleaned.get("timezone") or None,
            capacity=cleaned.get("capacity"),
            host=cleaned.get("host"),
            cohort=cleaned.get("cohort"),
            description=cleaned.get("description", ""),
            online=cleaned.get("online", True),
            location=cleaned.get("location", ""),
            open_registration=cleaned.get("open_registration"),
            actor=request.user,
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- the attendance grid ---------------------------------------------------------------------

    def get_urls(self):
        custom = [
            path(
                "<uuid:session_id>/attendance/",
                self.admin_site.admin_view(self.attendance_view),
                name="scheduling_session_attendance",
            )
        ]
        return custom + super().get_urls()

    def attendance_view(self, request, session_id):
        session = get_object_or_404(Session.objects.select_related("program", "host"), pk=session_id)
        if not self.has_change_permission(request, session):
            raise PermissionDenied
        participants = [r for r in session_registrations(session) if r.status == RegistrationStatus.REGISTERED]
        recorded = {
            a.user_id: a for a in Attendance.objects.filter(session_id=session.pk).select_related("recorded_by")
        }
        grid_url = reverse("admin:scheduling_session_attendance", args=[session.pk])
        typed: dict = {}
        row_errors: dict = {}
        if request.method == "POST":
            mark_rest_present = "_all_present" in request.POST
            records, rows_sent = [], []
            for registration in participants:
                user_id = registration.user_id
                status = request.POST.get(f"status-{user_id}", "").strip()
                minutes_raw = request.POST.get(f"minutes-{user_id}", "").strip()
                typed[user_id] = {"status": status, "minutes": minutes_raw}
                if not status and mark_rest_present and user_id not in recorded:
                    status = AttendanceStatus.PRESENT
                if not status:
                    if minutes_raw:
                        row_errors[user_id] = "Choose a status for these minutes."
                    continue
                minutes = None
                if minutes_raw:
                    if not minutes_raw.isdigit():
                        row_errors[user_id] = "Enter whole minutes (0 or more)."
                        continue
                    minutes = int(minutes_raw)
                records.append({"user_id": user_id, "status": status, "minutes_attended": minutes})
                rows_sent.append(registration)
            if not row_errors and not records:
                messages.warning(request, "Nothing to save: choose a status for at least one participant.")
            elif not row_errors:
                try:
                    saved = attendance_record(session=session, records=records, actor=request.user)
                except ValidationFailed as exc:
                    for path_, message in exc.errors.items():
                        parts = path_.split("/")
                        if len(parts) >= 2 and parts[0] == "records" and parts[1].isdigit():
                            registration = rows_sent[int(parts[1])]
                            row_errors[registration.user_id] = message
                        else:
                            messages.error(request, f"{path_}: {message}")
                    if not exc.errors:
                        messages.error(request, exc.detail)
                except DomainError as exc:
                    messages.error(request, domain_error_text(exc))
                else:
                    messages.success(request, f"Attendance saved for {len(saved)} participant(s).")
                    return HttpResponseRedirect(grid_url)
            for user_id, message in row_errors.items():
                user = next(r.user for r in participants if r.user_id == user_id)
                messages.error(request, f"{user}: {message}")
        rows = []
        for registration in participants:
            record = recorded.get(registration.user_id)
            shown = typed.get(registration.user_id)
            rows.append(
                {
                    "registration": registration,
                    "user": registration.user,
                    "record": record,
                    "status": shown["status"] if shown else (record.status if record else ""),
                    "minutes": shown["minutes"]
                    if shown
                    else ("" if record is None or record.minutes_attended is None else record.minutes_attended),
                    "error": row_errors.get(registration.user_id),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Attendance: {session.title}",
            "session": session,
            "local_times": self.local_times(session),
            "rows": rows,
            "statuses": AttendanceStatus.choices,
            "max_minutes": int((session.ends_at - session.starts_at).total_seconds() // 60),
            "recordable": session.status != SessionStatus.CANCELLED,
            "opts": self.model._meta,
            "change_url": reverse("admin:scheduling_session_change", args=[session.pk]),
        }
        return TemplateResponse(request, "admin/scheduling/session/attendance.html", context)


# --- Read-mostly records ------------------------------------------------------------------------


def _cancel_registration(registration, status, actor, reason):
    return registration_cancel(registration=registration, actor=actor, reason=reason)


@admin.register(Registration)
class RegistrationAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    """Registrations are made by participants, cohorts, operators (API) and slot matching; here
    they are read and, with the action, cancelled (the first waitlisted person moves up)."""

    action_form = ReasonActionForm
    list_display = ("participant", "session", "status", "position", "source", "registered_at", "waitlisted_at")
    list_filter = ("status", "source", "session__program")
    search_fields = ("user__email", "user__full_name", "session__title")
    list_select_related = ("user", "session")
    readonly_fields = (
        "session",
        "user",
        "status",
        "position",
        "source",
        "registered_at",
        "waitlisted_at",
        "cancelled_at",
        "audit_trail",
    )
    fields = readonly_fields
    actions = [
        status_action(
            "cancel",
            to=RegistrationStatus.CANCELLED,
            description="Cancel selected registrations (the first waitlisted person moves up)",
            done="Cancelled {count} registration(s).",
            apply=_cancel_registration,
        )
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_position=waitlist_position())

    @admin.display(description="Participant", ordering="user__email")
    def participant(self, obj) -> str:
        return str(obj.user)

    @admin.display(description="Waitlist position")
    def position(self, obj) -> str:
        value = getattr(obj, "_position", None)
        return str(value) if value else "-"

    def save_model(self, request, obj, form, change):
        return  # every field is read-only; cancelling goes through the action

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Attendance)
class AttendanceAdmin(AuditTrailMixin, ReadOnlyAdmin):
    """Attendance is marked on a session's grid, by the API, or by participants checking in."""

    list_display = ("participant", "session", "status", "minutes_attended", "source", "recorded_by", "checked_in_at")
    list_filter = ("status", "source", "session__program")
    search_fields = ("user__email", "user__full_name", "session__title")
    list_select_related = ("user", "session", "recorded_by")
    readonly_fields = (
        "session",
        "user",
        "status",
        "minutes_attended",
        "source",
        "recorded_by",
        "checked_in_at",
        "created_at",
        "updated_at",
        "audit_trail",
    )
    fields = readonly_fields

    @admin.display(description="Participant", ordering="user__email")
    def participant(self, obj) -> str:
        return str(obj.user)


@admin.register(HostConfirmation)
class HostConfirmationAdmin(AuditTrailMixin, ReadOnlyAdmin):
    """Hosts answer on their sessions page or through the API; unanswered requests expire at
    their deadline (the `host_confirmation_deadlines` job) and the operators are alerted."""

    list_display = ("session", "host", "status", "deadline", "decided_at", "reason")
    list_filter = ("status", "session__program")
    search_fields = ("host__email", "host__full_name", "session__title")
    list_select_related = ("session", "host")
    date_hierarchy = "deadline"
    readonly_fields = ("session", "host", "status", "deadline", "decided_at", "reason", "created_at", "audit_trail")
    fields = readonly_fields


@admin.register(AvailabilityWindow)
class AvailabilityWindowAdmin(ReadOnlyAdmin):
    """Availability is given through the API (`/availability`); here it is read."""

    list_display = (
        "owner",
        "program",
        "kind",
        "weekday",
        "start_time",
        "end_time",
        "timezone",
        "valid_from",
        "valid_until",
        "starts_at",
        "ends_at",
    )
    list_filter = ("kind", "program")
    search_fields = ("owner__email", "owner__full_name")
    list_select_related = ("owner", "program")
    readonly_fields = (
        "owner",
        "program",
        "kind",
        "weekday",
        "start_time",
        "end_time",
        "timezone",
        "valid_from",
        "valid_until",
        "starts_at",
        "ends_at",
        "created_at",
    )
    fields = readonly_fields
