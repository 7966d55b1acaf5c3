from django.urls import path

from . import api

app_name = "cockpit-api"
urlpatterns = [
    path("summary/", api.SummaryApi.as_view(), name="summary"),
    path("trends/", api.TrendsApi.as_view(), name="trends"),
    path("map/", api.MapApi.as_view(), name="map"),
    path("boundary/", api.BoundaryApi.as_view(), name="boundary"),
    path("detail/<str:kind>/<int:pk>/", api.DetailApi.as_view(), name="detail"),
    path("tide/", api.TideApi.as_view(), name="tide"),
    path("evaluation/", api.EvaluationApi.as_view(), name="evaluation"),
    path("weights/", api.WeightsApi.as_view(), name="weights"),
]
