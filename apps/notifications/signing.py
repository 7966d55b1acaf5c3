"""Request signing of the outside gateways, as each vendor documents it (pure: no Django).

* DingTalk / 浙政钉 custom group robot ("加签"): ``sign`` = url-encoded base64 of
  HMAC-SHA256(key=secret, msg="{timestamp_ms}\\n{secret}"); the gateway refuses a
  timestamp more than one hour from its own clock.
* Tencent Cloud API signature v3 (TC3-HMAC-SHA256), used by Tencent Cloud SMS ``SendSms``:
  canonical request -> string to sign -> a key derived date / service / "tc3_request".

The local test gateways (tests/notifications/gateways.py) verify requests with the same
functions' documented formulas written out independently, so a mistake here fails there.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote_plus

DINGTALK_WINDOW_MS = 60 * 60 * 1000  # the documented tolerance of the robot's timestamp


def dingtalk_sign(*, secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query parameter of a DingTalk robot request (already url-encoded)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class SignedRequest:
    headers: dict[str, str]
    body: bytes


def tc3_sign(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    service: str,
    action: str,
    version: str,
    region: str,
    payload: dict,
    timestamp_s: int,
    path: str = "/",
) -> SignedRequest:
    """Headers and body of a TencentCloud API v3 POST (JSON) request signed with TC3-HMAC-SHA256."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    content_type = "application/json; charset=utf-8"
    canonical_headers = f"content-type:{content_type}\nhost:{host}\nx-tc-action:{action.lower()}\n"
    signed_headers = "content-type;host;x-tc-action"
    canonical_request = "\n".join(["POST", path or "/", "", canonical_headers, signed_headers, _sha256_hex(body)])
    date = datetime.fromtimestamp(timestamp_s, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp_s), scope, _sha256_hex(canonical_request.encode())])
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
    return SignedRequest(
        headers={
            "Authorization": authorization,
            "Content-Type": content_type,
            "Host": host,
            "X-TC-Action": action,
            "X-TC-Timestamp": str(timestamp_s),
            "X-TC-Version": version,
            "X-TC-Region": region,
        },
        body=body,
    )
