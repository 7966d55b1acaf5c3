from django.urls import path

from apps.core.views import placeholder

app_name = "enforcement"
urlpatterns = [
    path("board/", placeholder, name="board"),
    path("inbox/", placeholder, name="inbox"),
]
