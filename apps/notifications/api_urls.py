from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("notifications", api.NotificationViewSet)
router.register("channels", api.ChannelViewSet)

app_name = "notifications-api"
urlpatterns = [
    path("task-summary/", api.TaskSummaryView.as_view(), name="task-summary"),
    path("delivery-rates/", api.DeliveryRatesView.as_view(), name="delivery-rates"),
    path("", include(router.urls)),
]
