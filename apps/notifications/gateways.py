"""The outside gateways: DingTalk / 浙政钉 robot, WeCom robot, SMS providers, email.

Each gateway sends one message to one address and returns a :class:`Receipt`, or raises
:class:`GatewayError` saying whether the failure is worth retrying (network errors, HTTP
5xx, a provider's "busy" codes) or not (HTTP 4xx, a refused signature, an invalid key).
Errors never carry a secret: webhook URLs and tokens are masked before they are stored.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.mail import send_mail

from . import signing

TIMEOUT_S = (5, 10)  # connect, read


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    link: str = ""  # absolute URL (or empty)


@dataclass(frozen=True)
class Receipt:
    http_status: int | None = None
    code: str = ""
    detail: str = ""


class GatewayError(Exception):
    def __init__(self, detail: str, *, transient: bool, http_status: int | None = None, code: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.transient = transient
        self.http_status = http_status
        self.code = code


class Gateway(Protocol):
    def send(self, *, message: Message, address: str, options: dict, secrets: dict[str, str]) -> Receipt: ...


_SECRET_QUERY = re.compile(r"(access_token|key|sign|token|secret)=[^&\s'\"]+", re.IGNORECASE)


def redact(text: str, secrets: dict[str, str]) -> str:
    """``text`` with every secret value and every token-like query parameter masked."""
    for value in secrets.values():
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return _SECRET_QUERY.sub(r"\1=***", text)[:1000]


def _post(url: str, *, secrets: dict[str, str], **kwargs) -> requests.Response:
    try:
        response = requests.post(url, timeout=TIMEOUT_S, **kwargs)
    except requests.RequestException as exc:  # DNS, refused, reset, timeout: try again later
        raise GatewayError(redact(f"{type(exc).__name__}: {exc}", secrets), transient=True) from None
    if response.status_code >= 500:
        raise GatewayError(redact(f"HTTP {response.status_code}: {response.text[:300]}", secrets),
                           transient=True, http_status=response.status_code)
    if response.status_code >= 400:
        raise GatewayError(redact(f"HTTP {response.status_code}: {response.text[:300]}", secrets),
                           transient=False, http_status=response.status_code)
    return response


def _json(response: requests.Response, secrets: dict[str, str]) -> dict:
    try:
        data = response.json()
    except ValueError:
        raise GatewayError(redact(f"网关应答不是 JSON：{response.text[:200]}", secrets), transient=True,
                           http_status=response.status_code) from None
    return data if isinstance(data, dict) else {}


def _markdown_link(message: Message) -> str:
    return f"\n\n[查看任务]({message.link})" if message.link else ""


# errcodes the robots answer for "too many messages, slow down": worth a later retry
ROBOT_BUSY_CODES = {"130101", "45009", "45033", "-1"}


def _robot_result(response: requests.Response, secrets: dict[str, str]) -> Receipt:
    data = _json(response, secrets)
    code = str(data.get("errcode", ""))
    if code == "0":
        return Receipt(http_status=response.status_code, code=code, detail=str(data.get("errmsg", "ok")))
    raise GatewayError(redact(f"{code} {data.get('errmsg', '')}", secrets), transient=code in ROBOT_BUSY_CODES,
                       http_status=response.status_code, code=code)


class DingTalkGateway:
    """Custom group robot (自定义机器人) with the "加签" security setting; markdown message."""

    def send(self, *, message: Message, address: str, options: dict, secrets: dict[str, str]) -> Receipt:
        url = secrets["webhook"]
        if secrets.get("secret"):
            ts = int(time.time() * 1000)
            url += f"&timestamp={ts}&sign={signing.dingtalk_sign(secret=secrets['secret'], timestamp_ms=ts)}"
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": message.title[:60], "text": f"#### {message.title}\n\n{message.body}{_markdown_link(message)}"},
        }
        return _robot_result(_post(url, json=payload, secrets=secrets), secrets)


class WeComGateway:
    """企业微信群机器人: the webhook URL carries the robot's key; markdown message."""

    def send(self, *, message: Message, address: str, options: dict, secrets: dict[str, str]) -> Receipt:
        payload = {"msgtype": "markdown", "markdown": {"content": f"**{message.title}**\n{message.body}{_markdown_link(message)}"}}
        return _robot_result(_post(secrets["webhook"], json=payload, secrets=secrets), secrets)


def sms_text(message: Message) -> str:
    return f"{message.title}：{message.body}"[:300]


def e164(phone: str) -> str:
    digits = re.sub(r"[^\d+]", "", phone)
    if digits.startswith("+"):
        return digits
    return f"+86{digits}"


# Tencent Cloud error codes worth a retry; everything else (auth, template, number) is final
TENCENT_TRANSIENT = ("InternalError", "RequestLimitExceeded", "LimitExceeded", "ResourceUnavailable")


class TencentSmsGateway:
    """Tencent Cloud SMS ``SendSms`` (API 2021-01-11) signed with TC3-HMAC-SHA256.

    options: ``sdk_app_id``, ``sign_name``, ``template_id``, optional ``region`` (ap-guangzhou),
    ``endpoint`` (https://sms.tencentcloudapi.com) and ``param_max`` (characters per template
    parameter, 30). The approved template takes two parameters: the title and the body.
    """

    def send(self, *, message: Message, address: str, options: dict, secrets: dict[str, str]) -> Receipt:
        endpoint = options.get("endpoint") or "https://sms.tencentcloudapi.com"
        host = urlsplit(endpoint).netloc
        cap = int(options.get("param_max") or 30)
        payload = {
            "PhoneNumberSet": [e164(address)],
            "SmsSdkAppId": str(options.get("sdk_app_id", "")),
            "SignName": str(options.get("sign_name", "")),
            "TemplateId": str(options.get("template_id", "")),
            "TemplateParamSet": [message.title[:cap], message.body[:cap]],
        }
        signed = signing.tc3_sign(
            secret_id=secrets["secret_id"], secret_key=secrets["secret_key"], host=host, service="sms",
            action="SendSms", version="2021-01-11", region=options.get("region") or "ap-guangzhou",
            payload=payload, timestamp_s=int(time.time()), path=urlsplit(endpoint).path or "/",
        )
        response = _post(endpoint, data=signed.body, headers=signed.headers, secrets=secrets)
        data = _json(response, secrets).get("Response") or {}
        error = data.get("Error")
        if error:
            code = str(error.get("Code", ""))
            raise GatewayError(redact(f"{code} {error.get('Message', '')}", secrets),
                               transient=code.startswith(TENCENT_TRANSIENT), http_status=response.status_code, code=code)
        status = (data.get("SendStatusSet") or [{}])[0]
        code = str(status.get("Code", ""))
        if code != "Ok":
            raise GatewayError(redact(f"{code} {status.get('Message', '')}", secrets),
                               transient=code.startswith(TENCENT_TRANSIENT), http_status=response.status_code, code=code)
        return Receipt(http_status=response.status_code, code=str(status.get("SerialNo", code)), detail=str(data.get("RequestId", "")))


class HttpSmsGateway:
    """A county's own SMS gateway: POST JSON ``{"phone": ..., "text": ...}`` (field names configurable).

    secrets: ``url`` and optional ``token`` (sent as ``Authorization: Bearer``). options:
    ``phone_field`` / ``text_field`` / ``extra`` (constant fields, e.g. a sender code). Any
    2xx answer counts as accepted.
    """

    def send(self, *, message: Message, address: str, options: dict, secrets: dict[str, str]) -> Receipt:
        payload = dict(options.get("extra") or {})
        payload[options.get("phone_field") or "phone"] = address
        payload[options.get("text_field") or "text"] = sms_text(message) + (f" {message.link}" if message.link else "")
        headers = {"Authorization": f"Bearer {secrets['token']}"} if secrets.get("token") else {}
        response = _post(secrets["url"], json=payload, headers=headers, secrets=secrets)
        return Receipt(http_status=response.status_code, detail=redact(response.text[:200], secrets))


class EmailGateway:
    """Django's configured mail backend (EMAIL_HOST ...); an SMTP refusal is retried."""

    def send(self, *, message: Message, address: str, options: dict, secrets: dict[str, str]) -> Receipt:
        text = message.body + (f"\n\n{message.link}" if message.link else "")
        try:
            send_mail(message.title, text, None, [address], fail_silently=False)
        except OSError as exc:  # smtplib errors are OSErrors: connection, refusal
            raise GatewayError(f"{type(exc).__name__}: {exc}"[:500], transient=True) from None
        return Receipt(detail="ok")


GATEWAYS: dict[str, Gateway] = {
    "dingtalk": DingTalkGateway(),
    "wecom": WeComGateway(),
    "sms_tencent": TencentSmsGateway(),
    "sms_http": HttpSmsGateway(),
    "email": EmailGateway(),
}


def absolute(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    base = getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/")
    return f"{base}{link}" if base else link
