"""Shared test base: departments, one user per role, API clients, and — for the live and
browser tests — real daphne and Celery worker processes against the test database, and a
real headless Chromium.

Pure domain tests (tests/elements/domain) need none of this and run with ``-p no:django``.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
ARTIFACTS = ROOT / "tests" / "artifacts"


# --- People ------------------------------------------------------------------------------
@pytest.fixture
def departments(db):
    from apps.core.departments import ensure_departments

    return ensure_departments()


@pytest.fixture
def make_user(departments):
    from apps.core.models import User

    def make(username: str, role: str, department: str | None = "police", password: str = "pw-for-tests-1"):
        user = User.objects.create_user(
            username=username,
            password=password,
            role=role,
            department=departments[department] if department else None,
            display_name=username,
        )
        return user

    return make


@pytest.fixture
def users(make_user):
    """One user per role, in the departments the demo uses."""
    return {
        "commander": make_user("commander", "commander", "antismuggling"),
        "duty": make_user("duty", "duty_officer", "antismuggling"),
        "police": make_user("police1", "dept_officer", "police"),
        "police_head": make_user("police_head", "dept_head", "police"),
        "coastguard": make_user("coastguard1", "dept_officer", "coastguard"),
        "customs": make_user("customs1", "dept_officer", "customs"),
        "grid": make_user("grid1", "grid_worker", "gaotang"),
        "pierchief": make_user("pierchief1", "pier_chief", "gaotang"),
        "auditor": make_user("auditor", "auditor", "discipline"),
    }


@pytest.fixture
def api_for():
    """``api_for(user)`` → a DRF client authenticated as ``user`` (session auth, CSRF enforced off)."""
    from rest_framework.test import APIClient

    def make(user=None, **kwargs):
        client = APIClient(REMOTE_ADDR=kwargs.pop("remote_addr", "10.8.0.7"))
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


# --- Real processes for live and browser tests -----------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port} after {timeout_s}s")


def _process_env() -> dict[str, str]:
    """The environment for a child process that must use the *test* database."""
    from django.conf import settings
    from django.db import connection

    env = dict(os.environ)
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env["SQLITE_PATH"] = str(db["NAME"])
        env.pop("DATABASE_URL", None)
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env["DJANGO_SECRET_KEY"] = settings.SECRET_KEY
    env["TIPSTER_KEYS"] = ",".join(settings.TIPSTER_KEYS)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Processes:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, args: list[str], log_name: str) -> subprocess.Popen:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log = open(ARTIFACTS / log_name, "w")
        proc = subprocess.Popen(args, cwd=ROOT, env=_process_env(), stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def live_server_url(request, django_db_setup, django_db_blocker):
    """A real daphne (ASGI: HTTP + WebSocket) serving the test database.

    One per test: flushing the database between transactional tests recreates content
    types with new ids, which a long-lived server would still hold in its caches.
    """
    procs = Processes()
    port = _free_port()
    with django_db_blocker.unblock():
        procs.start([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "xiangshan.asgi:application"], f"daphne-{request.node.name[:80]}.log")
    try:
        _wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        procs.stop()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real Celery worker process (and beat is left to the tests that need it)."""
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield None  # embedded default: tasks run in the caller
        return
    procs = Processes()
    with django_db_blocker.unblock():
        proc = procs.start(
            # one task per child process: a session-long worker outlives the flushes of transactional
            # tests, which recreate content types under new ids; a fresh child has no stale cache
            # (else an audit entry written by a task points at a content type that is gone)
            [sys.executable, "-m", "celery", "-A", "xiangshan", "worker", "-l", "info", "-c", "2", "--without-gossip", "--without-mingle", "-P", "prefork",
             "--max-tasks-per-child", "1"],
            "celery-worker.log",
        )
    try:
        from xiangshan.celery import app

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("celery worker exited; see tests/artifacts/celery-worker.log")
            if app.control.ping(timeout=0.5):
                break
        else:
            raise RuntimeError("celery worker did not answer")
        yield proc
    finally:
        procs.stop()


@pytest.fixture(scope="session")
def browser():
    """A real headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or "/usr/bin/chromium"
    # Playwright's sync API keeps an event loop on the main thread; the test's own ORM calls
    # there are still synchronous, so Django's async-safety guard must not refuse them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=exe,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture
def login_page(browser, live_server_url):
    """``login_page(user, viewport=...)`` → a Playwright page signed in as ``user`` (password 'pw-for-tests-1')."""
    contexts = []

    def make(user, *, viewport=None, password="pw-for-tests-1", **context_kwargs):
        ctx = browser.new_context(viewport=viewport or {"width": 1366, "height": 850}, locale="zh-CN", **context_kwargs)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(f"{live_server_url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def run_async(coro):
    """Run a coroutine to completion on a fresh thread with its own event loop.

    ``asyncio.run`` refuses to start on the main thread once Playwright's sync API has put
    its loop there, so async tests (Channels communicators) go through this instead.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Unit tests run Celery tasks in-process; tests marked ``live`` use the real worker."""
    from xiangshan.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = request.node.get_closest_marker("live") is None or eager
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = eager


def wait_worker_idle(timeout_s: float = 90) -> None:
    """Block until the real worker has nothing active or reserved twice in a row (before a flush under it)."""
    from xiangshan.celery import app

    deadline = time.monotonic() + timeout_s
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        inspect = app.control.inspect(timeout=1.0)
        busy = any((inspect.active() or {}).values()) or any((inspect.reserved() or {}).values())
        quiet = 0 if busy else quiet + 1
