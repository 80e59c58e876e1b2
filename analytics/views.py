"""Company reports for company administrators: "Reports" lists the companies the signed-in person
administers; a company's report shows its campaigns with the headline figures and the totals
(`analytics.partner.company_report`) over an optional date range, and downloads the same table as
CSV (the same bytes as the API's `?format=csv`).

A company the person does not administer answers 404, like an unknown one. A bad date range is
shown as field errors on the filter form (the CSV link then goes back to the form).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from accounts.models import Company, CompanyMembership
from analytics.api import CSVRenderer
from analytics.partner import COLUMNS, company_report, report_lines


def _date_field(label: str, help_text: str) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text=help_text
    )


class ReportFilterForm(forms.Form):
    """The date range of a report, under the API's query names `from` and `to` (both days
    included, UTC)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword: the fields are declared here under their query names.
        self.fields["from"] = forms.DateField(
            label="From",
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}),
            help_text="First day included.",
        )
        self.fields["to"] = forms.DateField(
            label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Last day included."
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", "Must not be before the first day.")
        return cleaned

    def date_range(self) -> dict:
        """`date_from` and `date_to` for the selector (call after `is_valid`)."""
        cleaned = self.cleaned_data if self.is_bound else {}
        return {"date_from": cleaned.get("from"), "date_to": cleaned.get("to")}


def administered_companies(user):
    """The companies `user` administers, by name."""
    return Company.objects.filter(memberships__user=user, memberships__kind=CompanyMembership.Kind.ADMIN).order_by(
        "name", "id"
    )


def _company_or_404(user, company_id) -> Company:
    company = administered_companies(user).filter(pk=company_id).first()
    if company is None:
        raise Http404("No company with this id.")
    return company


@login_required
@require_safe
def reports_index(request):
    return render(request, "analytics/reports_index.html", {"companies": list(administered_companies(request.user))})


@login_required
@require_safe
def company_report_page(request, company_id):
    company = _company_or_404(request.user, company_id)
    form = ReportFilterForm(request.GET or None, auto_id="report-%s")
    report = None
    csv_url = reverse("company-report-csv", args=[company.pk])
    if not form.is_bound or form.is_valid():
        report = company_report(company=company, **form.date_range())
        query = request.GET.urlencode()
        if query:
            csv_url = f"{csv_url}?{query}"
    return render(
        request,
        "analytics/company_report.html",
        {"company": company, "form": form, "report": report, "csv_url": csv_url},
    )


@login_required
@require_safe
def company_report_csv(request, company_id):
    company = _company_or_404(request.user, company_id)
    form = ReportFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        # Back to the page, which shows the errors.
        return redirect(f"{reverse('company-report', args=[company.pk])}?{request.GET.urlencode()}")
    report = company_report(company=company, **form.date_range())
    body = CSVRenderer().render({"columns": list(COLUMNS), "rows": report_lines(report)})
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="company-{company.pk}-campaigns.csv"'
    return response
