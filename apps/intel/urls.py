from django.urls import path

from . import views

app_name = "intel"
urlpatterns = [
    path("", views.RegistryPage.as_view(), name="registry"),
    path("network/", views.NetworkPage.as_view(), name="network"),
]
