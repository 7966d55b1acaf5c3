from django.urls import path

from . import views

app_name = "reporting"
urlpatterns = [
    # public (no login)
    path("", views.public_home, name="home"),
    path("tip/", views.tip_form, name="tip_form"),
    path("tip/status/", views.tip_status, name="tip_status"),
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin"),
    path("geo/county.geojson", views.county_geojson, name="county_geojson"),
    # operations centre (login, command roles)
    path("manage/tips/", views.TriageList.as_view(), name="triage"),
    path("manage/tips/<int:pk>/", views.TipDetail.as_view(), name="tip_detail"),
    path("manage/attachments/<int:pk>/", views.AttachmentFile.as_view(), name="attachment"),
    path("manage/bulletins/", views.BulletinManageList.as_view(), name="bulletin_manage"),
    path("manage/bulletins/<int:pk>/", views.BulletinEdit.as_view(), name="bulletin_edit"),
]
