from django.urls import path

from . import api

app_name = "intel-api"
urlpatterns = [
    path("elements/", api.ElementList.as_view(), name="elements"),
    path("elements/import/", api.RegistryImport.as_view(), name="import"),
    path("elements/<int:pk>/", api.ElementDetail.as_view(), name="element"),
    path("elements/<int:pk>/identity/", api.ElementIdentity.as_view(), name="identity"),
    path("elements/<int:pk>/timeline/", api.ElementTimeline.as_view(), name="timeline"),
    path("links/", api.LinkList.as_view(), name="links"),
    path("links/<int:pk>/retire/", api.LinkRetire.as_view(), name="link-retire"),
    path("network/", api.Network.as_view(), name="network"),
    path("network/export/", api.NetworkExportApi.as_view(), name="network-export"),
    path("path/", api.Path.as_view(), name="path"),
]
