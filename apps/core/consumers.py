"""The one WebSocket endpoint: a signed-in user's page joins the groups of its role and department."""
from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import live


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        live.ensure_relay()
        self.groups_joined = live.groups_for_user(user)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"event": "hello", "payload": {"groups": self.groups_joined}})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def live_event(self, message: dict) -> None:
        await self.send_json({"event": message["event"], "payload": message["payload"]})
