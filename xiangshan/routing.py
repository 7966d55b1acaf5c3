"""WebSocket routes of every module, in one place."""
from django.urls import path

from apps.core.consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi()),
]
