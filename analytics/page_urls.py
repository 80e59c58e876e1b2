from django.urls import path

from analytics import views

urlpatterns = [
    path("reports/", views.reports_index, name="company-reports"),
    path("reports/<uuid:company_id>/", views.company_report_page, name="company-report"),
    path("reports/<uuid:company_id>/export.csv", views.company_report_csv, name="company-report-csv"),
]
