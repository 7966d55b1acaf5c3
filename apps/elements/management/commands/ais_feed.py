"""``manage.py ais_feed``: receive AIS NMEA live (TCP client or server, UDP) into the pipeline.

Examples::

    manage.py ais_feed --tcp-client 10.0.0.5:4001          # connect to a shore station, reconnect on loss
    manage.py ais_feed --tcp-server 5631 --udp 5632         # let receivers push to us
    manage.py ais_feed --udp 5632 --max-seconds 60          # bounded run

Lines are batched (``--flush-seconds``) into the same pipeline as ``ingest_ais``; the counts
are printed when the run ends (Ctrl-C, ``--max-seconds`` or ``--max-lines``).
"""
from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand, CommandError

from ._common import print_totals


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not (0 < int(port) < 65536):
        raise CommandError(f"--tcp-client 应为 主机:端口，例如 10.0.0.5:4001（收到 {value!r}）")
    return host, int(port)


class Command(BaseCommand):
    help = "Receive a live AIS NMEA feed over TCP or UDP and run it through the track pipeline."

    def add_arguments(self, parser):
        parser.add_argument("--tcp-client", metavar="HOST:PORT", help="connect to this feed (reconnects with backoff)")
        parser.add_argument("--tcp-server", type=int, metavar="PORT", help="accept feeds on this TCP port")
        parser.add_argument("--udp", type=int, metavar="PORT", help="receive datagrams on this UDP port")
        parser.add_argument("--bind", default="0.0.0.0", help="address to listen on (servers)")
        parser.add_argument("--flush-seconds", type=float, default=2.0)
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--max-seconds", type=float, help="stop after this many seconds")
        parser.add_argument("--max-lines", type=int, help="stop after this many lines")
        parser.add_argument("--json", action="store_true")

    def make_feed(self, options, *, name: str, out):
        from apps.elements.feed import AisFeed

        return AisFeed(options, name=name, out=out)

    def handle(self, *args, **opts):
        from apps.elements.feed import FeedOptions

        if not (opts["tcp_client"] or opts["tcp_server"] or opts["udp"]):
            raise CommandError("请至少指定 --tcp-client、--tcp-server 或 --udp 之一。")
        o = FeedOptions(
            tcp_client=_host_port(opts["tcp_client"]) if opts["tcp_client"] else None,
            tcp_server=opts["tcp_server"],
            udp=opts["udp"],
            bind=opts["bind"],
            flush_s=max(0.1, opts["flush_seconds"]),
            batch_size=max(1, opts["batch_size"]),
            max_seconds=opts["max_seconds"],
            max_lines=opts["max_lines"],
        )
        name = " ".join(
            p for p in (
                f"tcp-client {opts['tcp_client']}" if opts["tcp_client"] else "",
                f"tcp-server :{opts['tcp_server']}" if opts["tcp_server"] else "",
                f"udp :{opts['udp']}" if opts["udp"] else "",
            ) if p
        )
        feed = self.make_feed(o, name=name, out=None if opts["json"] else self.stderr)
        try:
            totals = asyncio.run(feed.run())
        except KeyboardInterrupt:
            raise CommandError("已中断") from None
        except OSError as exc:
            raise CommandError(f"无法监听或连接：{exc}") from exc
        if not opts["json"]:
            self.stdout.write(f"lines: {totals['lines']} connections: {totals['connections']} reconnects: {totals['reconnects']}")
        print_totals(self, totals, as_json=opts["json"])
