"""The company report pages: the list of administered companies, one company's campaign table
with the date filter, and the CSV download (dataset: tests/analytics/test_partner.py)."""

from __future__ import annotations

import re
import uuid

import pytest

from accounts.models import CompanyMembership
from accounts.services import company_add_member

UNKNOWN = uuid.UUID("00000000-0000-4000-8000-000000000002")


@pytest.fixture
def data(partner_data):
    return partner_data


@pytest.fixture
def acme_admin(data, make_user):
    user = make_user(email="acme-admin@example.org")
    company_add_member(company=data.acme, user=user, kind=CompanyMembership.Kind.ADMIN)
    return user


def page(company_id) -> str:
    return f"/reports/{company_id}/"


def cells(html: str, testid: str) -> list[list[str]]:
    """The cell texts of the table rows marked `data-testid=testid`."""
    rows = re.findall(rf'<tr data-testid="{testid}"[^>]*>(.*?)</tr>', html, re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in rows
    ]


def test_sign_in_required(client, data):
    for path in ("/reports/", page(data.acme.pk), f"{page(data.acme.pk)}export.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_index_lists_only_administered_companies(client, data, acme_admin, make_user):
    # Also a plain member of Globex: members do not see reports.
    company_add_member(company=data.globex, user=acme_admin)
    client.force_login(acme_admin)
    response = client.get("/reports/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r'data-testid="company" data-company="([^"]+)"', html) == [str(data.acme.pk)]
    assert f'href="/reports/{data.acme.pk}/"' in html
    assert "Globex" not in html
    client.force_login(make_user(email="nobody@example.org"))
    assert 'data-testid="no-companies"' in client.get("/reports/").content.decode()


def test_report_table(client, data, acme_admin):
    client.force_login(acme_admin)
    response = client.get(page(data.acme.pk))
    assert response.status_code == 200
    html = response.content.decode()
    # Program, campaign, enrolled, active, completed, dropped, completion, drop, attendance,
    # places, target, max, progress (values of test_partner.test_whole_history).
    assert cells(html, "campaign-row") == [
        ["Buddy circle", "Acme buddies", "2", "1", "1", "0", "0.5", "0.0", "0.5", "2", "2", "2", "1.0"],
        ["Mentorship 2026", "Acme autumn", "2", "2", "0", "0", "0.0", "0.0", "0.6667", "2", "0", "3", "–"],
        ["Mentorship 2026", "Acme spring", "3", "1", "1", "1", "0.3333", "0.3333", "0.6667", "2", "4", "6", "0.5"],
    ]
    assert cells(html, "totals-row") == [
        ["", "Total", "7", "4", "2", "1", "0.2857", "0.1429", "0.6667", "6", "6", "11", "1.0"]
    ]
    assert f'href="/reports/{data.acme.pk}/export.csv"' in html
    assert "Globex" not in html


def test_date_filter(client, data, acme_admin):
    client.force_login(acme_admin)
    response = client.get(page(data.acme.pk), {"from": "2026-03-01", "to": "2026-03-31"})
    html = response.content.decode()
    # test_partner.test_date_range: totals enrolled 4, completed 2, attendance 3/4.
    assert cells(html, "totals-row")[0][2:9] == ["4", "2", "2", "0", "0.5", "0.0", "0.75"]
    assert 'value="2026-03-01"' in html and 'value="2026-03-31"' in html
    assert f'href="/reports/{data.acme.pk}/export.csv?from=2026-03-01&amp;to=2026-03-31"' in html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-13-01"}, "from", "Enter a valid date."),
        ({"to": "soon"}, "to", "Enter a valid date."),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to", "Must not be before the first day."),
    ],
)
def test_form_errors(client, data, acme_admin, params, field, message):
    client.force_login(acme_admin)
    response = client.get(page(data.acme.pk), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r'data-testid="error-(\w+)">([^<]*)<', html) == [(field, message)]
    assert 'data-testid="report-table"' not in html
    # The CSV link with the same bad input goes back to the page with the errors.
    response = client.get(f"{page(data.acme.pk)}export.csv", params)
    assert response.status_code == 302
    assert response["Location"].startswith(page(data.acme.pk) + "?")


def test_other_companies_are_not_found(client, data, acme_admin, make_user):
    client.force_login(acme_admin)
    for company_id in (data.globex.pk, UNKNOWN):
        assert client.get(page(company_id)).status_code == 404
        assert client.get(f"{page(company_id)}export.csv").status_code == 404
    # A member (not an administrator) and an operator are not company administrators.
    member = make_user(email="member@example.org", company=data.acme)
    operator = make_user(email="op@example.org", role="operator", is_staff=True)
    for user in (member, operator):
        client.force_login(user)
        assert client.get(page(data.acme.pk)).status_code == 404


def test_csv_download(client, data, acme_admin, operator_api):
    client.force_login(acme_admin)
    response = client.get(f"{page(data.acme.pk)}export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="company-{data.acme.pk}-campaigns.csv"'
    p, q = data.program.pk, data.other.pk
    assert response.content.decode() == (
        "campaign_id,campaign_name,program_id,program_name,applied,submitted,reviewed,accepted,"
        "enrolled,active,completed,dropped,completion_rate,drop_rate,acceptance_rate,attendance_rate,"
        "target_enrollment,max_enrollment,places_taken,target_progress\r\n"
        f"{data.c3.pk},Acme buddies,{q},Buddy circle,,,,,2,1,1,0,0.5,0.0,,0.5,2,2,2,1.0\r\n"
        f"{data.c2.pk},Acme autumn,{p},Mentorship 2026,,,,,2,2,0,0,0.0,0.0,,0.6667,0,3,2,\r\n"
        f"{data.c1.pk},Acme spring,{p},Mentorship 2026,,,,,3,1,1,1,0.3333,0.3333,,0.6667,4,6,2,0.5\r\n"
        ",Total,,,,,,,7,4,2,1,0.2857,0.1429,,0.6667,6,11,6,1.0\r\n"
    )
    # The same bytes as the API's CSV, with the date range too.
    dates = {"from": "2026-03-01", "to": "2026-03-31"}
    page_csv = client.get(f"{page(data.acme.pk)}export.csv", dates).content
    api_csv = operator_api.get(f"/api/v1/companies/{data.acme.pk}/analytics", {**dates, "format": "csv"}).content
    assert page_csv == api_csv
    assert page_csv.decode().splitlines()[-1] == ",Total,,,,,,,4,2,2,0,0.5,0.0,,0.75,6,11,6,1.0"
