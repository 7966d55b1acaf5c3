"""Local HTTP servers standing in for the outside gateways, each implementing the vendor's documented checks.

* DingTalk custom robot: ``access_token`` must be the robot's; with "加签", ``timestamp``
  (ms) within one hour of the server clock and ``sign`` = urlencode(base64(HMAC-SHA256(
  secret, "timestamp\\nsecret"))); a bad token answers errcode 300001, a bad sign 310000.
* WeCom group robot: ``key`` must be the robot's (else errcode 93000).
* Tencent Cloud SMS (TC3-HMAC-SHA256): the Authorization header is recomputed from the
  request as received (method, path, query, the signed headers, the body's SHA-256),
  the credential scope's date must match X-TC-Timestamp; a mismatch answers
  ``AuthFailure.SignatureFailure`` in the body, as the real API does (HTTP 200).
* A county's own SMS gateway: ``Authorization: Bearer <token>`` required (else 401).

The checks are written out here from the vendors' documents, independently of
``apps.notifications.signing``. ``fail_next(path, status)`` makes the next requests to a
path answer an HTTP error first (a gateway outage).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlsplit


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict
    accepted: bool


@dataclass
class Gateways:
    dingtalk_token: str = "dt-token-0001"
    dingtalk_secret: str = "SECdingtalk-secret-0001"
    wecom_key: str = "wecom-key-0001"
    tencent_id: str = "AKIDtest0001"
    tencent_key: str = "tencent-secret-key-0001"
    http_token: str = "county-gw-token-0001"
    received: list[Received] = field(default_factory=list)
    failures: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, path: str, status: int, times: int = 1) -> None:
        for _ in range(times):
            self.failures[path].append(status)

    def accepted(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path and r.accepted]

    # --- the documented checks ---------------------------------------------------------------
    def dingtalk(self, query: dict[str, str], body: dict) -> tuple[int, dict]:
        if query.get("access_token") != self.dingtalk_token:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        ts = query.get("timestamp", "")
        if not ts.isdigit() or abs(int(ts) - time.time() * 1000) > 3600 * 1000:
            return 200, {"errcode": 310000, "errmsg": "sign not match, timestamp is invalid"}
        mac = hmac.new(self.dingtalk_secret.encode("utf-8"), f"{ts}\n{self.dingtalk_secret}".encode("utf-8"), hashlib.sha256)
        if base64.b64encode(mac.digest()).decode() != query.get("sign"):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        if body.get("msgtype") != "markdown" or not body.get("markdown", {}).get("text"):
            return 200, {"errcode": 40035, "errmsg": "missing markdown text"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    def wecom(self, query: dict[str, str], body: dict) -> tuple[int, dict]:
        if query.get("key") != self.wecom_key:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        if body.get("msgtype") != "markdown" or not body.get("markdown", {}).get("content"):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    def tencent(self, headers: dict[str, str], raw: bytes, path: str, query: str) -> tuple[int, dict]:
        def fail(code, msg):
            return 200, {"Response": {"Error": {"Code": code, "Message": msg}, "RequestId": "req-err"}}

        auth = headers.get("authorization", "")
        try:
            algo, rest = auth.split(" ", 1)
            parts = dict(p.strip().split("=", 1) for p in rest.split(","))
            secret_id, date, service, terminator = parts["Credential"].split("/")
        except ValueError:
            return fail("AuthFailure.InvalidAuthorization", "Authorization malformed")
        ts = headers.get("x-tc-timestamp", "0")
        if algo != "TC3-HMAC-SHA256" or terminator != "tc3_request" or secret_id != self.tencent_id:
            return fail("AuthFailure.SecretIdNotFound", "unknown SecretId")
        if datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d") != date or abs(int(ts) - time.time()) > 300:
            return fail("AuthFailure.SignatureExpire", "timestamp out of window")
        signed = parts["SignedHeaders"].split(";")
        canonical_headers = "".join(f"{h}:{headers.get(h, '').strip().lower() if h == 'x-tc-action' else headers.get(h, '').strip()}\n" for h in signed)
        canonical = "\n".join(["POST", path, query, canonical_headers, parts["SignedHeaders"], hashlib.sha256(raw).hexdigest()])
        to_sign = "\n".join(["TC3-HMAC-SHA256", ts, f"{date}/{service}/tc3_request", hashlib.sha256(canonical.encode()).hexdigest()])

        def h(key, msg):
            return hmac.new(key, msg.encode(), hashlib.sha256).digest()

        k = h(h(h(("TC3" + self.tencent_key).encode(), date), service), "tc3_request")
        if hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest() != parts["Signature"]:
            return fail("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        body = json.loads(raw)
        if headers.get("x-tc-action") != "SendSms" or service != "sms" or not body.get("PhoneNumberSet"):
            return fail("InvalidParameter", "bad request")
        return 200, {"Response": {"SendStatusSet": [
            {"SerialNo": f"sn-{len(self.received)}", "PhoneNumber": p, "Code": "Ok", "Message": "send success"}
            for p in body["PhoneNumberSet"]], "RequestId": "req-ok"}}

    def county_sms(self, headers: dict[str, str], body: dict) -> tuple[int, dict]:
        if headers.get("authorization") != f"Bearer {self.http_token}":
            return 401, {"error": "unauthorized"}
        if not body.get("phone") or not body.get("text"):
            return 400, {"error": "phone and text required"}
        return 200, {"result": "queued"}


def start(gw: Gateways) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):  # noqa: N802
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            with gw.lock:
                forced = gw.failures[parts.path].popleft() if gw.failures[parts.path] else None
            if forced:
                status, answer = forced, {"errcode": -1, "errmsg": f"forced {forced}"}
            elif parts.path == "/robot/send":
                status, answer = gw.dingtalk(query, body)
            elif parts.path == "/cgi-bin/webhook/send":
                status, answer = gw.wecom(query, body)
            elif parts.path == "/":
                status, answer = gw.tencent(headers, raw, "/", parts.query)
            elif parts.path == "/county-sms":
                status, answer = gw.county_sms(headers, body)
            else:
                status, answer = 404, {"error": "no such path"}
            ok = status == 200 and answer.get("errcode", 0) == 0 and "Error" not in answer.get("Response", {}) and "error" not in answer
            with gw.lock:
                gw.received.append(Received(parts.path, query, headers, body, ok))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gw.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


__all__ = ["Gateways", "start", "unquote_plus"]
