from django.urls import path

from . import views

app_name = "sources"
urlpatterns = [
    path("overview/", views.OverviewPage.as_view(), name="overview"),
    path("mobile/", views.MobilePage.as_view(), name="mobile"),
    path("mobile/sw.js", views.service_worker, name="service-worker"),
    path("mobile/manifest.webmanifest", views.manifest, name="manifest"),
    path("repairs/", views.RepairsPage.as_view(), name="repairs"),
    path("industry/", views.IndustryPage.as_view(), name="industry"),
    path("photos/<int:pk>/", views.photo, name="photo"),
]
