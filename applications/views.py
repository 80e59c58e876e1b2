"""Applicant pages: apply (the form built from the program's definition), my applications."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from applications.definitions import option_values
from applications.enums import DECIDED, ApplicationStatus, FieldType
from applications.models import Application
from applications.selectors import my_application, my_applications, timelines
from applications.services import (
    application_edit,
    application_start,
    application_submit,
    application_withdraw,
    offer_respond,
    window_error,
)
from applications.services.applying import _can_edit
from applications.services.common import current_form
from core import clock
from core.errors import DomainError, NotFound, ValidationFailed
from programs.models import ProgramTrack
from programs.selectors import program_catalog

# Nothing left to withdraw from.
WITHDRAWN_OR_FINAL = (ApplicationStatus.WITHDRAWN, ApplicationStatus.REJECTED)


def _value(field: dict, post) -> Any:
    """The posted value of a field in the type the form definition expects (None when empty)."""
    key, kind = field["key"], field["type"]
    if kind == FieldType.MULTI_CHOICE:
        values = post.getlist(key)
        return values or None
    if kind == FieldType.BOOLEAN:
        return post.get(key) == "on"
    raw = (post.get(key) or "").strip()
    if raw == "":
        return None
    if kind == FieldType.NUMBER:
        try:
            return int(raw)
        except ValueError:
            try:
                return float(raw)
            except ValueError:
                return raw  # the service answers "Enter a number."
    return raw


def _rows(fields: list[dict], answers: dict, errors: dict) -> list[dict]:
    rows = []
    for field in fields:
        value = answers.get(field["key"])
        rows.append(
            {
                **field,
                "value": value,
                "values": value if isinstance(value, list) else [],
                "choices": option_values(field),
                "error": errors.get(f"answers/{field['key']}"),
                "input_id": f"field-{field['key']}",
            }
        )
    return rows


@login_required
def apply(request, program_key: str):
    program = get_object_or_404(program_catalog(), program_key=program_key)
    try:
        form = current_form(program)
    except NotFound:
        messages.error(request, "This program does not take applications on the platform.")
        return redirect("program-detail", program_key=program.program_key)
    application = my_application(program, request.user)
    if application is not None and application.status == ApplicationStatus.WITHDRAWN:
        application = None  # withdrawn: applying again starts afresh on the current form
    if application is not None and not _can_edit(application):
        return redirect("my-applications")
    # A draft moves to the newest form when saved; anything submitted keeps the version it answered.
    fields = application.form.fields if application and application.status != ApplicationStatus.DRAFT else form.fields
    tracks = list(ProgramTrack.objects.filter(program=program, active=True).order_by("position", "name"))
    answers = dict(application.answers) if application else {}
    errors: dict[str, str] = {}
    track_id = str(application.track_id) if application and application.track_id else ""
    if request.method == "POST":
        posted = {f["key"]: _value(f, request.POST) for f in fields}
        answers = {k: v for k, v in posted.items() if v is not None}
        track_id = request.POST.get("track_id", "")
        track = next((t for t in tracks if str(t.pk) == track_id), None)
        submit = "submit" in request.POST
        saved = False
        try:
            if application is None:
                application = application_start(applicant=request.user, program=program, answers=answers, track=track)
            else:
                # None clears an answer the applicant emptied (the service merges into saved answers).
                application = application_edit(application=application, answers=posted, track=track, actor=request.user)
            saved = True
            if submit:
                application_submit(application=application, actor=request.user)
                messages.success(request, "Your application was submitted.")
                return redirect("my-applications")
            messages.success(request, "Your draft was saved.")
            return redirect("apply", program_key=program.program_key)
        except ValidationFailed as exc:
            errors = exc.errors
            if saved:
                messages.error(request, "Your draft was saved, but it cannot be submitted yet: see the fields below.")
            else:
                messages.error(request, "Please correct the fields marked below.")
            unshown = {k: v for k, v in errors.items() if k != "track_id" and k.removeprefix("answers/") not in posted}
            for path, message in unshown.items():
                messages.error(request, f"{path}: {message}")
        except DomainError as exc:
            messages.error(request, f"{exc.detail} Your draft was saved." if saved else exc.detail)
    closed = window_error(program)
    return render(
        request,
        "applications/apply.html",
        {
            "program": program,
            "application": application,
            "rows": _rows(fields, answers, errors),
            "tracks": tracks,
            "track_id": track_id,
            "track_error": errors.get("track_id"),
            "closed": closed,
            # Outside the window only drafts can be saved; an answer to a request for more
            # information can always be sent back.
            "can_submit": not closed or (application is not None and application.status != ApplicationStatus.DRAFT),
        },
    )


@login_required
def my_applications_page(request):
    rows = []
    now = clock.now()
    applications = list(my_applications(request.user))
    histories = timelines(applications)
    for application in applications:
        rows.append(
            {
                "application": application,
                "timeline": histories[application.pk],
                # my_applications() prefetches the open offers (no query per application); one
                # past its deadline waits for the job that passes it on and can no longer be taken.
                "offer": next((o for o in application.offers.all() if o.expires_at > now), None),
                "can_edit": _can_edit(application),
                "decided": application.status in DECIDED,
                "can_withdraw": application.status not in WITHDRAWN_OR_FINAL,
            }
        )
    return render(request, "applications/my_applications.html", {"rows": rows})


def _mine(request, application_id) -> Application:
    """The signed-in user's application with this id (one query); anyone else's is a 404."""
    return get_object_or_404(Application.objects.select_related("program"), pk=application_id, applicant=request.user)


@login_required
@require_POST
def withdraw(request, application_id):
    application = _mine(request, application_id)
    try:
        application_withdraw(application=application, actor=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, "Your application was withdrawn.")
    except DomainError as exc:
        messages.error(request, exc.detail)
    return redirect("my-applications")


@login_required
@require_POST
def respond_offer(request, application_id):
    application = _mine(request, application_id)
    accept = request.POST.get("answer") == "accept"
    try:
        offer_respond(application=application, accept=accept, actor=request.user)
        messages.success(request, "Welcome aboard!" if accept else "The place goes to the next person. Thank you.")
    except DomainError as exc:
        messages.error(request, exc.detail)
    return redirect("my-applications")
