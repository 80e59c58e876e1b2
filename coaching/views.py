"""The person's page "My game plan": the top three pursuits by momentum (title, state, momentum,
deadline in the viewer's time zone) with "Confirm submitted" for external ones still being
prepared; "Have you heard back?" check-ins (won, lost, still waiting, or dismiss); wins waiting
for the person's confirmation; the micro-task and the snooze of nudges; the total won per
currency; and a form to track an external opportunity.

Every action posts, goes through `coaching.services`, and comes back to the page with a message
(POST-redirect-GET); a form with errors is shown again in place. Internal pursuits follow their
application on the platform, so they are confirmed by submitting the application there.

The page costs a constant number of queries whatever the number of pursuits.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_POST, require_safe

from coaching.enums import CheckInOutcome, CoachState
from coaching.forms import ExternalPursuitForm, SnoozeForm, add_service_errors
from coaching.models import CheckInTask, Pursuit
from coaching.selectors import game_plan
from coaching.services import checkin_complete, checkin_dismiss, pursuit_confirm, pursuit_create_external, snooze_set
from core import clock
from core.errors import DomainError

PAGE = "coaching/game_plan.html"
ANSWERS = {
    CheckInOutcome.WON: "Congratulations! {title} is counted as won.",
    CheckInOutcome.LOST: "Sorry to hear it. {title} is marked as not successful.",
    CheckInOutcome.WAITING: "Noted: still waiting to hear about {title}.",
}


def _error_text(exc: DomainError) -> str:
    return " ".join(exc.errors.values()) if exc.errors else exc.detail


def page_context(user: Any, *, pursuit_form: ExternalPursuitForm | None = None, snooze_form=None) -> dict:
    plan = game_plan(user, clock.now())
    return {
        **plan,
        "pursuit_form": pursuit_form or ExternalPursuitForm(auto_id="pursuit-%s"),
        "snooze_form": snooze_form or SnoozeForm(auto_id="snooze-%s"),
        "outcomes": CheckInOutcome.choices,
    }


@login_required
@require_safe
def game_plan_page(request):
    return render(request, PAGE, page_context(request.user))


# --- Actions (POST, then back to the page; a form with errors is shown again in place) ----------


@login_required
@require_POST
def pursuit_add(request):
    form = ExternalPursuitForm(request.POST, auto_id="pursuit-%s")
    if form.is_valid():
        try:
            pursuit = pursuit_create_external(user=request.user, data=form.service_data())
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{pursuit.title} is on your game plan.")
            return redirect("game-plan")
    messages.error(request, "The opportunity was not added: see the form below.")
    return render(request, PAGE, page_context(request.user, pursuit_form=form))


@login_required
@require_POST
def pursuit_confirm_view(request, pursuit_id):
    pursuit = get_object_or_404(Pursuit.objects.filter(user=request.user), pk=pursuit_id)
    state = request.POST.get("state", "")
    if state not in (CoachState.SUBMITTED, CoachState.WON):
        messages.error(request, "Choose what you confirm: submitted or won.")
        return redirect("game-plan")
    try:
        pursuit = pursuit_confirm(pursuit=pursuit, user=request.user, state=state)
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        return redirect("game-plan")
    if state == CoachState.SUBMITTED:
        messages.success(request, f"{pursuit.title} is submitted. We will ask you in three weeks if you heard back.")
    else:
        messages.success(request, f"Congratulations! {pursuit.title} is counted as won.")
    return redirect("game-plan")


@login_required
@require_POST
def check_in_answer(request, task_id):
    task = get_object_or_404(
        CheckInTask.objects.filter(user=request.user).select_related("pursuit"),
        pk=task_id,
    )
    answer = request.POST.get("answer", "")
    if answer not in (*CheckInOutcome.values, "dismiss"):
        messages.error(request, "Choose won, lost, still waiting, or dismiss.")
        return redirect("game-plan")
    title = task.pursuit.title
    try:
        if answer == "dismiss":
            checkin_dismiss(task=task, user=request.user)
        else:
            checkin_complete(task=task, user=request.user, outcome=answer)
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        return redirect("game-plan")
    if answer == "dismiss":
        messages.success(request, f"The check-in on {title} is dismissed.")
    else:
        messages.success(request, ANSWERS[CheckInOutcome(answer)].format(title=title))
    return redirect("game-plan")


@login_required
@require_POST
def snooze(request):
    if request.POST.get("clear"):
        try:
            snooze_set(user=request.user, until=None)
        except DomainError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, "Nudges are back on.")
        return redirect("game-plan")
    form = SnoozeForm(request.POST, auto_id="snooze-%s")
    if form.is_valid():
        try:
            settings_row = snooze_set(user=request.user, until=form.cleaned_data["until"])
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            until = date_format(timezone.localtime(settings_row.snoozed_until), "j M Y, H:i T")
            messages.success(request, f"Nudges are snoozed until {until}.")
            return redirect("game-plan")
    messages.error(request, "The snooze was not set: see the form below.")
    return render(request, PAGE, page_context(request.user, snooze_form=form))
