"""Hardening: login lockout (django-axes), the client address behind trusted proxies (rate
limits, audit trail), the API description behind login, and ``check --deploy`` clean."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.test import RequestFactory, override_settings
from django_ratelimit.core import is_ratelimited

from apps.core.net import ClientAddressMiddleware, resolve_client_address

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-for-tests-1"


def _login(client, username, password, addr):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=addr)


@pytest.mark.django_db
def test_brute_force_is_locked_out_and_then_even_the_right_password_is_refused(client, users, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(5):
        res = _login(client, "duty", "wrong-password", "203.0.113.9")
        assert res.status_code in (200, 429) and "_auth_user_id" not in client.session
    res = _login(client, "duty", PASSWORD, "203.0.113.9")
    assert res.status_code == 429 and "_auth_user_id" not in client.session
    assert "锁定" in res.content.decode()
    # keyed on account and address: the same officer from the duty room still gets in
    other = client.__class__()
    res = _login(other, "duty", PASSWORD, "10.8.0.7")
    assert res.status_code == 302 and other.session["_auth_user_id"] == str(users["duty"].pk)


@pytest.mark.django_db
def test_the_api_description_needs_a_login_unless_opened(client, users):
    for url in ("/api/schema/", "/api/docs/", "/api/redoc/"):
        assert client.get(url).status_code in (401, 403), url
    client.force_login(users["duty"])
    assert client.get("/api/schema/").status_code == 200


@pytest.mark.parametrize(
    "peer, forwarded, trusted, client_addr",
    [
        ("203.0.113.9", None, [], "203.0.113.9"),
        ("203.0.113.9", "1.2.3.4", [], "203.0.113.9"),  # no trusted proxy: the header is ignored
        ("203.0.113.9", "1.2.3.4", ["10.0.0.0/8"], "203.0.113.9"),  # not from a trusted proxy
        ("10.0.0.2", "198.51.100.7", ["10.0.0.0/8"], "198.51.100.7"),
        ("10.0.0.2", "1.2.3.4, 198.51.100.7", ["10.0.0.0/8"], "198.51.100.7"),  # 1.2.3.4: written by the client
        ("10.0.0.2", "198.51.100.7, 10.0.0.3", ["10.0.0.0/8"], "198.51.100.7"),  # two proxies
        ("10.0.0.2", "garbage", ["10.0.0.0/8"], "10.0.0.2"),
        ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
    ],
)
def test_client_address_behind_trusted_proxies(peer, forwarded, trusted, client_addr):
    with override_settings(TRUSTED_PROXIES=trusted):
        assert resolve_client_address(peer, forwarded) == client_addr


@override_settings(TRUSTED_PROXIES=["10.0.0.2"])
def test_rate_limits_key_on_the_client_not_on_the_proxy(settings):
    settings.CACHES = settings.CACHES  # the real cache (Redis in production mode)
    group = f"test-{secrets.token_hex(4)}"
    seen = {}
    for client_addr in ("198.51.100.7", "198.51.100.8"):
        request = RequestFactory().post("/public/tip/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=client_addr)
        ClientAddressMiddleware(lambda r: None)(request)
        seen[client_addr] = [is_ratelimited(request, group=group, key="ip", rate="2/m", increment=True) for _ in range(3)]
    assert seen == {"198.51.100.7": [False, False, True], "198.51.100.8": [False, False, True]}


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=["10.0.0.2"])
def test_the_audit_trail_records_the_client_behind_the_proxy_and_ignores_a_forged_header(client, users):
    client.force_login(users["commander"])
    res = client.post("/api/elements/holidays/", {"date": "2026-10-01", "name": "国庆节"},
                      content_type="application/json", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert res.status_code == 201, res.content
    res = client.post("/api/elements/holidays/", {"date": "2026-10-02", "name": "国庆节"},
                      content_type="application/json", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert res.status_code == 201, res.content
    addrs = list(LogEntry.objects.filter(content_type__model="holiday").order_by("pk").values_list("remote_addr", flat=True))
    assert addrs == ["198.51.100.7", "203.0.113.9"]


def test_check_deploy_is_clean_with_production_settings():
    # the process environment of production: none of the test run's overrides
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_SECURE_", "DJANGO_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"))}
    env.update(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="xs.example.gov.cn")
    assert env.get("DATABASE_URL") and env.get("REDIS_URL"), "production mode needs both"
    res = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "no issues" in res.stdout
