from django.urls import path

from apps.core.views import placeholder

app_name = "cockpit"
urlpatterns = [
    path("dashboard/", placeholder, name="dashboard"),
]
