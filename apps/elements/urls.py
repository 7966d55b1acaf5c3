from django.urls import path

from apps.core.views import placeholder

app_name = "elements"
urlpatterns = [
    path("warnings/", placeholder, name="warnings"),
]
