from django.urls import path

from . import views

app_name = "enforcement"
urlpatterns = [
    path("board/", views.BoardPage.as_view(), name="board"),
    path("inbox/", views.InboxPage.as_view(), name="inbox"),
    path("cases/", views.CaseListPage.as_view(), name="cases"),
    path("cases/<int:pk>/", views.CasePage.as_view(), name="case"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence"),
]
