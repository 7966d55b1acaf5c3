from django.urls import path

from . import api

app_name = "reporting-api"
urlpatterns = [
    path("tips/", api.TipList.as_view(), name="tips"),
    path("tips/<int:pk>/", api.TipDetailApi.as_view(), name="tip"),
    path("tips/<int:pk>/identity/", api.TipIdentity.as_view(), name="tip-identity"),
    path("indicators/", api.Indicators.as_view(), name="indicators"),
]
