"""``manage.py radar_feed``: receive radar target sentences live (TTM/TLL with tag blocks) into the pipeline.

The options of ``ais_feed`` (TCP client or server, UDP, bounded runs)::

    manage.py radar_feed --tcp-client 10.0.0.7:4002
    manage.py radar_feed --udp 5640 --max-seconds 60
"""
from __future__ import annotations

from .ais_feed import Command as AisFeedCommand


class Command(AisFeedCommand):
    help = "Receive live radar target sentences (TTM/TLL) over TCP or UDP and run them through the track pipeline."

    def make_feed(self, options, *, name: str, out):
        from apps.elements.sensing import RadarFeed

        return RadarFeed(options, name=name, out=out)
