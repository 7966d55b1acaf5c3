"""Abuse resistance that works on an offline network: no third-party service is called.

* **Local challenge.** The server asks a small sum in Chinese numerals ("七加五等于几？").
  The form carries a token signed with the site secret (``django.core.signing``) holding a
  random nonce and a keyed hash of the answer — never the answer itself. On submit the
  signature and age (at most ``CHALLENGE_MAX_AGE_S``) are checked, the nonce is burned in
  the cache (``cache.add`` is atomic, so a token works once, right or wrong), and the
  answer is compared in constant time. It is a speed bump, not a wall: together with the
  rate limits below it makes a flood slow and visible.
* **Rate limits** (django-ratelimit) key on :func:`client_key`: a keyed hash of the address,
  which lives only in the cache counters; the address itself is never stored.
* **Lockout** per tip code after ``LOCK_AFTER_FAILURES`` wrong secrets.
* :func:`forget_address` drops the address from the audit context on public pages, so the
  audit trail records no tipster's IP.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from auditlog.context import auditlog_value
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _

CHALLENGE_MAX_AGE_S = 20 * 60
CHALLENGE_SALT = "reporting.challenge"
LOCK_AFTER_FAILURES = 5
LOCK_S = 15 * 60
SUBMIT_RATE = "5/10m"
STATUS_RATE = "20/10m"

_DIGITS = "零一二三四五六七八九"
_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty"
).split()


def _numeral(n: int) -> str:
    """``n`` (0–20) in words: Chinese numerals, or English words when the page is in another language."""
    if not (get_language() or "zh").startswith("zh") and n < len(_WORDS):
        return _WORDS[n]
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("十" if tens == 1 else _DIGITS[tens] + "十") + (_DIGITS[ones] if ones else "")


def _keyed(*parts: str) -> str:
    msg = "\x1f".join(parts).encode()
    return hmac.new(settings.SECRET_KEY.encode(), msg, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Challenge:
    token: str
    question: str


def challenge_new() -> Challenge:
    a, b = secrets.randbelow(19) + 2, secrets.randbelow(9) + 1
    if secrets.randbelow(2):
        question, answer = _("%(a)s加%(b)s等于几？") % {"a": _numeral(a), "b": _numeral(b)}, a + b
    else:
        a = max(a, b + 1)
        question, answer = _("%(a)s减%(b)s等于几？") % {"a": _numeral(a), "b": _numeral(b)}, a - b
    nonce = secrets.token_urlsafe(12)
    token = signing.TimestampSigner(salt=CHALLENGE_SALT).sign_object({"n": nonce, "h": _keyed("challenge", nonce, str(answer))[:32]})
    return Challenge(token=token, question=question)


def challenge_check(*, token: str, answer: str) -> None:
    """Raise ``ValidationError`` (Chinese) unless ``answer`` solves the unused, unexpired ``token``."""
    if not token:
        raise ValidationError(_("缺少验证题，请刷新页面后重新填写。"), code="challenge_missing")
    try:
        data = signing.TimestampSigner(salt=CHALLENGE_SALT).unsign_object(token[:500], max_age=CHALLENGE_MAX_AGE_S)
    except signing.SignatureExpired:
        raise ValidationError(_("验证题已过期，请重新作答。"), code="challenge_expired") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationError(_("验证题无效，请刷新页面后重新填写。"), code="challenge_invalid") from None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str) or not isinstance(data.get("h"), str):
        raise ValidationError(_("验证题无效，请刷新页面后重新填写。"), code="challenge_invalid")
    if not cache.add(f"reporting:challenge:{data['n']}", 1, timeout=CHALLENGE_MAX_AGE_S + 60):
        raise ValidationError(_("验证题已使用过，请重新作答。"), code="challenge_reused")
    given = (answer or "").strip()[:6]
    if not hmac.compare_digest(_keyed("challenge", data["n"], given)[:32], data["h"]):
        raise ValidationError(_("验证题答案不正确，请重新作答。"), code="challenge_wrong")


def client_key(group, request) -> str:
    """django-ratelimit key: a keyed hash of the client address (the address is never stored)."""
    return _keyed("client", request.META.get("REMOTE_ADDR", ""))[:32]


def _lock_key(code: str) -> str:
    return "reporting:fail:" + _keyed("code", code)[:32]


def code_locked(*, code: str) -> bool:
    return (cache.get(_lock_key(code)) or 0) >= LOCK_AFTER_FAILURES


def code_failure_record(*, code: str) -> None:
    key = _lock_key(code)
    cache.add(key, 0, timeout=LOCK_S)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=LOCK_S)


def code_failures_clear(*, code: str) -> None:
    cache.delete(_lock_key(code))


def forget_address() -> None:
    """Public pages: the audit trail records no address (nor port) for this request."""
    try:
        context = auditlog_value.get()
    except LookupError:
        return
    context["remote_addr"] = None
    context["remote_port"] = None
