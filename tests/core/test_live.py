"""Live pushes: the WebSocket joins the groups of the user's role and department, refuses
anonymous users, and a push made after commit reaches the page (Redis layer in production
mode; the outbox relay on the embedded default)."""
import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from channels.testing import WebsocketCommunicator

from apps.core import live
from tests.conftest import run_async

pytestmark = pytest.mark.django_db(transaction=True)


def _communicator(user):
    from xiangshan.asgi import application

    comm = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")])
    if user is not None:
        comm.scope["user"] = user
    return comm


def test_anonymous_socket_is_refused():
    from django.contrib.auth.models import AnonymousUser

    async def run():
        comm = _communicator(AnonymousUser())
        connected, _ = await comm.connect()
        if connected:  # accepted then closed with 4401
            msg = await comm.receive_output(timeout=5)
            assert msg["type"] == "websocket.close"
        await comm.disconnect()

    run_async(run())


def test_a_push_reaches_the_department_and_not_other_departments(users):
    police, customs = users["police"], users["customs"]

    async def run():
        a, b = _communicator(police), _communicator(customs)
        assert (await a.connect())[0] and (await b.connect())[0]
        hello = await a.receive_json_from(timeout=5)
        assert live.group_department(police.department_id) in hello["payload"]["groups"]
        await b.receive_json_from(timeout=5)

        @database_sync_to_async
        def publish():
            from django.db import transaction

            with transaction.atomic():
                live.push(live.group_department(police.department_id), "task.new", {"id": 7})

        await publish()
        got = await a.receive_json_from(timeout=10)
        assert got == {"event": "task.new", "payload": {"id": 7}}
        assert await b.receive_nothing(timeout=1)
        await a.disconnect()
        await b.disconnect()

    run_async(run())


def test_embedded_outbox_relays_pushes_from_other_processes(users, monkeypatch):
    """Without Redis, a push from a command-line process is written to the outbox and the
    web process relays it to its in-memory layer."""
    from apps.core.models import LiveEvent

    layer = InMemoryChannelLayer()
    monkeypatch.setattr(live, "get_channel_layer", lambda alias="default": layer)
    monkeypatch.setattr(live, "_web_process", False)
    live._send(["command"], "warning.new", {"id": 1})  # as a management command would, after commit
    assert LiveEvent.objects.filter(group="command", event="warning.new").count() == 1

    async def run():
        channel = await layer.new_channel()
        await layer.group_add("command", channel)
        task = asyncio.get_running_loop().create_task(live._relay_forever(interval_s=0.05))
        try:
            msg = await asyncio.wait_for(layer.receive(channel), timeout=10)
        finally:
            task.cancel()
        return msg

    msg = run_async(run())
    assert msg["event"] == "warning.new" and msg["payload"] == {"id": 1}
    assert LiveEvent.objects.count() == 0
