"""Mentors' and mentees' page "My matches": each match with the partner, program, status and start;
proposals waiting for the viewer's answer (where the program lets people accept their own
proposals); a check-in form per active match, a feedback form per active or ended match; the
viewer's milestones and the latest check-ins of their matches.

What the page leaves out: proposals the viewer cannot answer (an operator decides those, so they
are not news yet), and proposals that were rejected or withdrawn.

The page costs a constant number of queries whatever the number of matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from core.errors import DomainError
from mentorship.enums import MatchStatus, SelfAccept
from mentorship.forms import CheckInForm, FeedbackForm, add_service_errors
from mentorship.models import CheckIn, Feedback, Match, Milestone
from mentorship.selectors import matches_of_user
from mentorship.services import checkin_log, feedback_give, match_respond
from mentorship.services.common import self_accept, side_roles

RECENT_CHECKINS = 10


@dataclass
class MatchRow:
    match: Match
    side: str  # the viewer's: mentor or mentee
    partner: Any
    partner_role: str  # what the partner is called in this program (mentor, buddy, participant ...)
    my_role: str
    can_answer: bool = False  # a proposal the viewer may accept or decline
    accepted: bool = False  # the viewer has accepted; the other side has not yet
    feedback: Feedback | None = None
    checkin_form: CheckInForm | None = None
    feedback_form: FeedbackForm | None = None

    @property
    def active(self) -> bool:
        return self.match.status == MatchStatus.ACTIVE


def _may_answer(match: Match, side: str) -> bool:
    who = self_accept(match.program)
    return who == SelfAccept.BOTH or who == side


def _forms_for(row: MatchRow, bound: dict) -> None:
    pk = row.match.pk
    if row.active:
        row.checkin_form = bound.get(("checkin", pk)) or CheckInForm(auto_id=f"checkin-{pk}-%s")
    if row.match.status in (MatchStatus.ACTIVE, MatchStatus.ENDED):
        initial = {"rating": row.feedback.rating, "comment": row.feedback.comment} if row.feedback else None
        row.feedback_form = bound.get(("feedback", pk)) or FeedbackForm(initial=initial, auto_id=f"feedback-{pk}-%s")


def page_context(user: Any, bound: dict | None = None) -> dict:
    """Everything the page shows; `bound` holds forms posted with errors, keyed (kind, match id)."""
    bound = bound or {}
    matches = list(
        matches_of_user(user)
        .select_related("program__template")
        .annotate(checkin_count=Count("checkins"), last_checkin_at=Max("checkins__at"))
    )
    mine = (
        {f.match_id: f for f in Feedback.objects.filter(author=user, match__in=[m.pk for m in matches])}
        if matches
        else {}
    )
    to_answer, current, ended = [], [], []
    for match in matches:
        side = "mentor" if match.mentor_id == user.pk else "mentee"
        roles = side_roles(match.program)
        other = "mentee" if side == "mentor" else "mentor"
        row = MatchRow(
            match=match,
            side=side,
            partner=match.mentee if side == "mentor" else match.mentor,
            partner_role=roles[other],
            my_role=roles[side],
            feedback=mine.get(match.pk),
        )
        if match.status == MatchStatus.PROPOSED:
            if not _may_answer(match, side):
                continue
            row.accepted = getattr(match, f"{side}_accepted_at") is not None
            row.can_answer = not row.accepted
            to_answer.append(row)
        elif match.status == MatchStatus.ACTIVE:
            current.append(row)
        elif match.status == MatchStatus.ENDED:
            ended.append(row)
        _forms_for(row, bound)
    ended.sort(key=lambda r: r.match.ended_at, reverse=True)
    milestones = list(Milestone.objects.filter(user=user).select_related("program").order_by("-reached_at"))
    checkins = list(
        CheckIn.objects.filter(Q(match__mentor=user) | Q(match__mentee=user))
        .select_related("by", "match__program")
        .order_by("-at")[:RECENT_CHECKINS]
    )
    return {
        "to_answer": to_answer,
        "current": current,
        "ended": ended,
        "milestones": milestones,
        "checkins": checkins,
    }


@login_required
@require_safe
def my_matches(request):
    return render(request, "mentorship/my_matches.html", page_context(request.user))


# --- Actions (POST, then back to the page; a form with errors is shown again in place) ----------


def _mine(request, match_id) -> Match:
    """The viewer's match with this id (one query); anyone else's answers 404."""
    return get_object_or_404(
        Match.objects.select_related("program__template", "mentor", "mentee").filter(
            Q(mentor=request.user) | Q(mentee=request.user)
        ),
        pk=match_id,
    )


def _again(request, kind: str, match: Match, form) -> Any:
    return render(request, "mentorship/my_matches.html", page_context(request.user, {(kind, match.pk): form}))


@login_required
@require_POST
def respond(request, match_id):
    match = _mine(request, match_id)
    answer = request.POST.get("answer", "")
    if answer not in ("accept", "decline"):
        messages.error(request, "Choose to accept or decline the proposal.")
        return redirect("my-matches")
    side = "mentor" if match.mentor_id == request.user.pk else "mentee"
    partner = match.mentee if side == "mentor" else match.mentor
    try:
        match = match_respond(
            match=match, user=request.user, accept=answer == "accept", reason=request.POST.get("reason", "").strip()
        )
    except DomainError as exc:
        messages.error(request, " ".join(exc.errors.values()) if exc.errors else exc.detail)
        return redirect("my-matches")
    if answer == "decline":
        messages.success(request, f"You declined the proposal to pair with {partner.get_full_name()}.")
    elif match.status == MatchStatus.ACTIVE:
        messages.success(request, f"You and {partner.get_full_name()} are matched in {match.program.name}.")
    else:
        messages.success(request, f"You accepted. We will tell you when {partner.get_full_name()} has answered too.")
    return redirect("my-matches")


@login_required
@require_POST
def check_in(request, match_id):
    match = _mine(request, match_id)
    form = CheckInForm(request.POST, auto_id=f"checkin-{match.pk}-%s")
    if form.is_valid():
        try:
            checkin_log(
                match=match,
                by=request.user,
                mood=form.cleaned_data["mood"],
                notes=form.cleaned_data["notes"],
                actor=request.user,
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            partner = match.mentee if match.mentor_id == request.user.pk else match.mentor
            messages.success(request, f"Your check-in with {partner.get_full_name()} is saved.")
            return redirect("my-matches")
    messages.error(request, "Your check-in was not saved: see the form below.")
    return _again(request, "checkin", match, form)


@login_required
@require_POST
def feedback(request, match_id):
    match = _mine(request, match_id)
    form = FeedbackForm(request.POST, auto_id=f"feedback-{match.pk}-%s")
    if form.is_valid():
        try:
            _, created = feedback_give(
                match=match,
                author=request.user,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Thank you for your feedback." if created else "Your feedback was updated.")
            return redirect("my-matches")
    messages.error(request, "Your feedback was not saved: see the form below.")
    return _again(request, "feedback", match, form)
