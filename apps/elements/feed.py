"""Live AIS feeds: NMEA lines over TCP (as client or server) or UDP, batched into the pipeline.

asyncio receives; every line is stamped with its receive time and decoded at once (one
decoder per connection or sender, so multi-part messages reassemble per stream). Every
``flush_s`` seconds, or sooner when ``batch_size`` fixes are waiting, what was decoded goes
through the same :class:`apps.elements.ingest.Dispatcher` as a file ingest, in a single
worker thread (the ORM is synchronous; batches stay in order). A TCP client reconnects with
exponential backoff. ``max_seconds`` / ``max_lines`` bound a run (tests, smoke checks).
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .domain.model import PositionFix
from .domain.nmea import AisStreamDecoder

log = logging.getLogger(__name__)

#: Longest line read from a TCP stream (bytes). A longer line is quarantined (garbled) and
#: skipped to its end; the connection stays open.
LINE_LIMIT = 1 << 16
#: Bytes of an overlong line kept for its quarantine record.
_OVERLONG_HEAD = 200


async def _read_line(reader: asyncio.StreamReader) -> tuple[bytes, int]:
    """The next line and its length in bytes; b"" at end of stream.

    A line over the reader's limit is read to its end and dropped: only its first bytes
    are returned, with its full length (> LINE_LIMIT).
    """
    head = b""
    size = 0
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:  # end of stream; a last line without newline
            line = exc.partial
        except asyncio.LimitOverrunError as exc:
            chunk = await reader.readexactly(exc.consumed)
            head = head or chunk[:_OVERLONG_HEAD]
            size += len(chunk)
            continue
        if size:
            return head, max(size + len(line), LINE_LIMIT + 1)
        return line, len(line)


@dataclass
class FeedOptions:
    tcp_client: tuple[str, int] | None = None
    tcp_server: int | None = None
    udp: int | None = None
    bind: str = "0.0.0.0"
    flush_s: float = 2.0
    batch_size: int = 5000
    max_seconds: float | None = None
    max_lines: int | None = None
    backoff_max_s: float = 30.0


@dataclass
class FeedStats:
    lines: int = 0
    connections: int = 0
    reconnects: int = 0
    flushes: int = 0
    overlong: int = 0  #: lines over LINE_LIMIT, quarantined (also counted in ``lines``)
    decoders: dict[str, AisStreamDecoder] = field(default_factory=dict)


class AisFeed:
    #: The ingest run's kind; a subclass feeding other sentences (radar) names its own.
    run_kind = "ais_feed"

    def __init__(self, options: FeedOptions, *, name: str, out=None) -> None:
        self.o = options
        self.name = name
        self.out = out
        self.stats = FeedStats()
        self.items: list[Any] = []
        self.pending_fixes = 0
        self.stop = asyncio.Event()
        self.wake = asyncio.Event()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ais-feed-db")
        self.run_id: int | None = None
        self.totals = None
        self.dispatcher = None
        self.quarantine = None
        self.sealed = False  # the final flush closed the run

    # ---------------------------------------------------------------- database side (one thread)
    def _open(self) -> None:
        from . import ingest, services

        run = services.ingest_run_start(kind=self.run_kind, name=self.name)
        self.run_id = run.pk
        self.totals = ingest.Totals()
        self.dispatcher = ingest.Dispatcher(run_id=run.pk, totals=self.totals, batch_size=self.o.batch_size)
        self.quarantine = ingest.QuarantineSink(run_id=run.pk, totals=self.totals)

    def _flush(self, items: list[Any], lines: int, decoded: int, final: bool) -> None:
        from . import batches, services

        assert self.dispatcher is not None and self.quarantine is not None and self.totals is not None
        sent_before = self.dispatcher.sent
        q_before = dict(self.quarantine.counts)
        from .ingest import _route

        for item in items:
            _route(item, self.totals, self.dispatcher, self.quarantine)
        self.quarantine.flush()
        self.dispatcher.drain()
        self._flushed(items)
        self.totals.read += lines
        self.totals.decoded += decoded
        q_new = {k: v - q_before.get(k, 0) for k, v in self.quarantine.counts.items() if v - q_before.get(k, 0)}
        batches.retrying(lambda: services.ingest_run_progress(
            run_id=self.run_id, read=lines, decoded=decoded, quarantined=q_new,
            batches_sent=self.dispatcher.sent - sent_before, final=final, error="\n".join(self.totals.errors) if final else "",
        ), what="feed progress")
        self.sealed = final

    def _flushed(self, items: list[Any]) -> None:
        """After a flush has gone through the pipeline (database thread): a subclass's hook."""

    def _close_db(self) -> None:
        from django.db import connections

        connections.close_all()

    # ---------------------------------------------------------------- receiving side (event loop)
    def _request_stop(self) -> None:
        self.stop.set()
        self.wake.set()

    def _new_decoder(self) -> Any:
        return AisStreamDecoder(source="ais")

    def _decoder(self, key: str) -> AisStreamDecoder:
        dec = self.stats.decoders.get(key)
        if dec is None:
            dec = self.stats.decoders[key] = self._new_decoder()
        return dec

    def feed_line(self, key: str, line: str | bytes) -> None:
        if self.stop.is_set():
            return
        self.stats.lines += 1
        for item in self._decoder(key).feed(line, datetime.now(UTC)):
            self.items.append(item)
            if isinstance(item, PositionFix):
                self.pending_fixes += 1
        if self.pending_fixes >= self.o.batch_size:
            self.wake.set()
        if self.o.max_lines is not None and self.stats.lines >= self.o.max_lines:
            self.stop.set()
            self.wake.set()

    def _say(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text)

    async def _tcp_client(self) -> None:
        host, port = self.o.tcp_client  # type: ignore[misc]
        delay = 1.0
        key = f"tcp:{host}:{port}"
        while not self.stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(host, port, limit=LINE_LIMIT)
            except OSError as exc:
                self._say(f"无法连接 {host}:{port}：{exc}；{delay:.0f} 秒后重试")
                await self._sleep(delay)
                delay = min(delay * 2, self.o.backoff_max_s)
                self.stats.reconnects += 1
                continue
            self.stats.connections += 1
            delay = 1.0
            try:
                await self._read_stream(reader, key)
            finally:
                writer.close()
            if not self.stop.is_set():
                self._say(f"连接 {host}:{port} 已断开，{delay:.0f} 秒后重连")
                self.stats.reconnects += 1
                await self._sleep(delay)
                delay = min(delay * 2, self.o.backoff_max_s)

    def refuse_line(self, key: str, head: bytes, size: int) -> None:
        """Count and quarantine a line over the stream's line limit (``head``: its first bytes)."""
        if self.stop.is_set():
            return
        self.stats.lines += 1
        self.stats.overlong += 1
        self.items.extend(self._decoder(key).refuse_line(
            head, f"line of {size} bytes over the feed's limit of {LINE_LIMIT} bytes", datetime.now(UTC)))

    async def _read_stream(self, reader: asyncio.StreamReader, key: str) -> None:
        while not self.stop.is_set():
            read = asyncio.ensure_future(_read_line(reader))
            stopped = asyncio.ensure_future(self.stop.wait())
            done, _ = await asyncio.wait({read, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if read not in done:
                read.cancel()
                return
            stopped.cancel()
            try:
                line, size = read.result()
            except ConnectionError:
                return
            if size > LINE_LIMIT:
                self.refuse_line(key, line, size)  # the connection stays open
                continue
            if not line:
                return  # EOF
            self.feed_line(key, line)

    async def _tcp_server(self) -> asyncio.AbstractServer:
        async def handle(reader, writer):
            peer = writer.get_extra_info("peername")
            self.stats.connections += 1
            try:
                await self._read_stream(reader, f"tcp-in:{peer}")
            finally:
                writer.close()

        return await asyncio.start_server(handle, self.o.bind, self.o.tcp_server, limit=LINE_LIMIT)

    async def _udp(self):
        feed = self

        class Protocol(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr) -> None:
                for line in data.splitlines():
                    if line.strip():
                        feed.feed_line(f"udp:{addr}", line)

        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(Protocol, local_addr=(self.o.bind, self.o.udp))
        return transport

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def _flusher(self) -> None:
        loop = asyncio.get_running_loop()
        lines_done = 0
        decoded_done = 0
        while True:
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.o.flush_s)
            except asyncio.TimeoutError:
                pass
            self.wake.clear()
            final = self.stop.is_set()
            if final:
                for dec in self.stats.decoders.values():
                    self.items.extend(dec.flush())
            items, self.items, self.pending_fixes = self.items, [], 0
            decoded = sum(d.stats.messages for d in self.stats.decoders.values())
            lines = self.stats.lines
            if items or final or lines != lines_done:
                await loop.run_in_executor(self.executor, self._flush, items, lines - lines_done, decoded - decoded_done, final)
                self.stats.flushes += 1
                lines_done, decoded_done = lines, decoded
            if final:
                return

    async def run(self) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.executor, self._open)
        servers = []
        tasks = [asyncio.ensure_future(self._flusher())]
        if self.o.tcp_client:
            tasks.append(asyncio.ensure_future(self._tcp_client()))
        if self.o.tcp_server is not None:
            servers.append(await self._tcp_server())
            self._say(f"listening on tcp {self.o.bind}:{self.o.tcp_server}")
        if self.o.udp is not None:
            servers.append(await self._udp())
            self._say(f"listening on udp {self.o.bind}:{self.o.udp}")
        if self.o.max_seconds is not None:
            loop.call_later(self.o.max_seconds, self._request_stop)
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C / stop: flush what was received, then end
            try:
                loop.add_signal_handler(sig, self._request_stop)
            except (RuntimeError, ValueError, NotImplementedError):  # not the main thread (tests)
                pass
        try:
            await tasks[0]  # the flusher ends after the final flush
        except BaseException as exc:  # the run is never left running
            if self.run_id is not None and not self.sealed:
                from .ingest import close_runs_failed

                await loop.run_in_executor(self.executor, close_runs_failed, [self.run_id], exc)
            raise
        finally:
            self.stop.set()
            for t in tasks[1:]:
                t.cancel()
            for s in servers:
                s.close()
            await loop.run_in_executor(self.executor, self._close_db)
            self.executor.shutdown(wait=True)
        assert self.totals is not None
        out = self.totals.as_dict()
        out.update(run=self.run_id, lines=self.stats.lines, connections=self.stats.connections,
                   reconnects=self.stats.reconnects, flushes=self.stats.flushes, overlong=self.stats.overlong)
        return out
