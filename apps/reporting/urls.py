from django.urls import path

from apps.core.views import placeholder

app_name = "reporting"
urlpatterns = [
    path("triage/", placeholder, name="triage"),
    path("tip_form/", placeholder, name="tip_form"),
]
