"""The one Celery app. Tasks are autodiscovered from every app's ``tasks.py``.

With the Redis broker a message taken by a worker waits, unacknowledged, in the broker's
``unacked`` index until the task is acknowledged (late: after it ran) or until the
*visibility timeout* has passed, when any worker puts it back in the queue. A short timeout
brings back the work of a dead worker within seconds, but on its own it would also hand a
healthy worker's long task to a second worker. :class:`UnackedHeartbeat` prevents that: every
``CELERY_UNACKED_HEARTBEAT_S`` each live worker stamps the messages it holds (running,
reserved or waiting for their retry time) as fresh, so only the messages of a worker that
stopped stamping (killed, frozen, cut off) time out. See docs/operations.md.
"""
import logging
import os
import time

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiangshan.settings")

log = logging.getLogger(__name__)

app = Celery("xiangshan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class UnackedHeartbeat(bootsteps.StartStopStep):
    """Keep the messages this worker holds from reaching the broker's visibility timeout."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.tref = None
        self.client = None

    def start(self, c):
        if not str(c.app.conf.broker_url or "").startswith(("redis://", "rediss://", "unix://")):
            return
        import redis

        self.client = redis.Redis.from_url(c.app.conf.broker_url, socket_timeout=5, socket_connect_timeout=5)
        self.key = c.app.conf.broker_transport_options.get("global_keyprefix", "") + "unacked_index"
        from django.conf import settings

        every = float(getattr(settings, "CELERY_UNACKED_HEARTBEAT_S", 5))
        self.tref = c.timer.call_repeatedly(every, self.beat, priority=10)

    def beat(self):
        from celery.worker import state

        held = {*state.requests.values(), *state.active_requests, *state.scheduled_requests}
        tags = [t for t in (getattr(r.message, "delivery_tag", None) for r in held) if t]
        if not tags:
            return
        try:
            # XX: only refresh entries still there (an acknowledged message must not come back)
            self.client.zadd(self.key, {t: time.time() for t in tags}, xx=True)
        except Exception:  # Redis away: the broker connection's own retries take over
            log.warning("could not refresh %d held messages", len(tags), exc_info=True)

    def stop(self, c):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def shutdown(self, c):
        self.stop(c)


app.steps["consumer"].add(UnackedHeartbeat)
