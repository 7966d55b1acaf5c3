from django.urls import path

from apps.core.views import placeholder

app_name = "sources"
urlpatterns = [
    path("overview/", placeholder, name="overview"),
    path("mobile/", placeholder, name="mobile"),
]
