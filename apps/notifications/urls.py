from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.OperationsPage.as_view(), name="operations"),
]
