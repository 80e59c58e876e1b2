from django.urls import path

from applications import views

urlpatterns = [
    path("programs/<slug:program_key>/apply/", views.apply, name="apply"),
    path("applications/", views.my_applications_page, name="my-applications"),
    path("applications/<uuid:application_id>/withdraw", views.withdraw, name="application-withdraw"),
    path("applications/<uuid:application_id>/offer", views.respond_offer, name="application-offer"),
]
