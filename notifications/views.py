"""The dashboard inbox: the signed-in user's notifications, mark one or all read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.errors import NotFound
from notifications.selectors import notification_inbox
from notifications.services import notification_mark_read, notifications_mark_all_read

PAGE_SIZE = 20


@require_GET
@login_required
def inbox(request):
    page = Paginator(notification_inbox(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


def _back(request):
    """Back to the page the form was on (`next`, same site only), else the inbox."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notifications-inbox")


@require_POST
@login_required
def mark_read(request, notification_id):
    try:
        notification_mark_read(user=request.user, notification_id=notification_id)
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    return _back(request)


@require_POST
@login_required
def mark_all_read(request):
    marked = notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {marked} notification{'' if marked == 1 else 's'} as read.")
    return _back(request)
