"""``ais_feed``: live AIS over TCP (client with reconnect, server) and UDP, into the same pipeline."""
from __future__ import annotations

import io
import json
import socket
import threading
import time

import pytest
from django.core.management import call_command

from apps.elements.models import IngestRun, QuarantineRecord, StoredFix, Warning

from .conftest import ais_lines, landing_fixes, local_night

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_feed(*args) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def target():
        out = io.StringIO()
        try:
            call_command("ais_feed", *args, "--json", "--flush-seconds", "0.5", stdout=out, stderr=io.StringIO())
            result.update(json.loads(out.getvalue()))
        except Exception as exc:  # surfaced by the test
            result["exception"] = exc
        finally:
            from django.db import connections

            connections.close_all()

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, result


def _landing_lines(demo_geo, vessel: str) -> list[str]:
    fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id=vessel, night=local_night(2), stay_min=90, source="ais")
    return ais_lines(fixes)


def test_tcp_client_reconnects_and_every_line_goes_through_the_pipeline(demo_geo):
    lines = _landing_lines(demo_geo, "412448001")
    half = len(lines) // 2
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def station():  # a shore station that drops the connection half way
        for chunk in (lines[:half], lines[half:]):
            conn, _ = server.accept()
            conn.sendall(("\n".join(chunk) + "\n").encode())
            if chunk is lines[:half]:
                conn.close()
            else:
                time.sleep(5)
                conn.close()
        server.close()

    threading.Thread(target=station, daemon=True).start()
    t, result = _run_feed("--tcp-client", f"127.0.0.1:{port}", "--max-lines", str(len(lines)), "--max-seconds", "120")
    t.join(150)
    assert not t.is_alive() and "exception" not in result, result
    assert result["lines"] == len(lines) and result["fixes"] == len(lines)
    assert result["connections"] == 2 and result["reconnects"] >= 1
    assert StoredFix.objects.count() == len(lines)
    assert Warning.objects.filter(kind="idle_pier_landing", vessels=["412448001"]).exists()
    run = IngestRun.objects.get(pk=result["run"])
    assert run.kind == "ais_feed" and run.read == len(lines) and run.status == IngestRun.Status.DONE


def test_tcp_server_and_udp_receive_lines_and_quarantine_bad_ones(demo_geo):
    lines = _landing_lines(demo_geo, "412448002")
    tcp, udp = _free_port(), _free_port(socket.SOCK_DGRAM)
    bad = "!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*FF"
    total = len(lines) + 1
    t, result = _run_feed("--tcp-server", str(tcp), "--udp", str(udp), "--bind", "127.0.0.1",
                          "--max-lines", str(total), "--max-seconds", "120")
    deadline = time.monotonic() + 30
    while True:  # wait for the server to listen
        try:
            conn = socket.create_connection(("127.0.0.1", tcp), timeout=1)
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    half = len(lines) // 2
    conn.sendall(("\n".join(lines[:half] + [bad]) + "\n").encode())
    conn.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(half, len(lines), 5):  # a few sentences per datagram, as receivers send them
            s.sendto(("\r\n".join(lines[i : i + 5]) + "\r\n").encode(), ("127.0.0.1", udp))
            time.sleep(0.002)
    t.join(150)
    assert not t.is_alive() and "exception" not in result, result
    assert result["lines"] == total
    assert result["quarantined"] == {"bad_checksum": 1}
    assert result["stored"] == len(lines) == StoredFix.objects.count()
    assert Warning.objects.filter(kind="idle_pier_landing", vessels=["412448002"]).exists()


def test_a_feed_needs_a_source():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--tcp-client"):
        call_command("ais_feed", stdout=io.StringIO())
    with pytest.raises(CommandError, match="主机:端口"):
        call_command("ais_feed", "--tcp-client", "nohost", stdout=io.StringIO())


def test_tcp_server_quarantines_overlong_and_control_lines_and_keeps_the_connection(demo_geo):
    lines = _landing_lines(demo_geo, "412448003")
    tcp = _free_port()
    half = len(lines) // 2
    hostile = [
        b"!AIVDM," + b"A" * 100_000,  # over the 64 KiB line limit
        lines[0].encode() + b"\x00" * (5 * 1024 * 1024),  # 5 MB, and NULs
        lines[1].replace("AIVDM,1,1,,A,1", "AIVDM,1,1,,A,\x001").encode(),  # a NUL the checksum cannot see
        b"\xff\xfe x",
    ]
    total = len(lines) + len(hostile)
    t, result = _run_feed("--tcp-server", str(tcp), "--bind", "127.0.0.1",
                          "--max-lines", str(total), "--max-seconds", "120")
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", tcp), timeout=1)
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    payload = [ln.encode() for ln in lines[:half]] + hostile + [ln.encode() for ln in lines[half:]]
    conn.settimeout(60)
    conn.sendall(b"\n".join(payload) + b"\n")  # one connection: the lines after the long ones still arrive
    t.join(150)
    conn.close()
    assert not t.is_alive() and "exception" not in result, result
    assert result["lines"] == total and result["connections"] == 1 and result["overlong"] == 2
    assert result["quarantined"] == {"garbled": len(hostile)}
    assert result["stored"] == len(lines) == StoredFix.objects.count()
    run = IngestRun.objects.get(pk=result["run"])
    assert run.read == total
    raws = list(QuarantineRecord.objects.filter(run=run).values_list("raw", flat=True))
    assert all(len(r) < 1000 and "\x00" not in r for r in raws)
    assert any(r.startswith("!AIVDM,AAAA") for r in raws) and "\\xff\\xfe x" in raws


def test_a_feed_that_fails_closes_its_run_as_failed(demo_geo, monkeypatch):
    from apps.elements import ingest

    def broken(self):
        raise RuntimeError("database gone for good")

    monkeypatch.setattr(ingest.Dispatcher, "drain", broken)
    udp = _free_port(socket.SOCK_DGRAM)
    t, result = _run_feed("--udp", str(udp), "--bind", "127.0.0.1", "--max-lines", "1", "--max-seconds", "60")
    time.sleep(1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto((_landing_lines(demo_geo, "412448003")[0] + "\r\n").encode(), ("127.0.0.1", udp))
    t.join(90)
    assert not t.is_alive() and isinstance(result.get("exception"), RuntimeError)
    run = IngestRun.objects.get()
    assert run.status == IngestRun.Status.FAILED and "database gone for good" in run.error  # never left running
