from django.urls import path

from . import views

app_name = "elements"
urlpatterns = [
    path("warnings/", views.WarningsPage.as_view(), name="warnings"),
    path("warnings/<int:pk>/", views.WarningDetailPage.as_view(), name="warning-detail"),
]
