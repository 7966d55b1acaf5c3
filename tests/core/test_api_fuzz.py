"""No server errors: schemathesis over the project's own OpenAPI document (docs/api/openapi.yaml),
as the commander and as an anonymous caller, against the demo county. Every answer is below 500
and conforms to the documented schema (status code, content type, body); anonymous callers get
401/403 everywhere but the public tip endpoints."""
from __future__ import annotations

import io
import json
import traceback
from pathlib import Path

import pytest
import schemathesis
import yaml
from django.core.management import call_command
from django.core import signals
from django.core.signals import got_request_exception
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis import checks as st_checks

DOC = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"
#: Examples per operation and caller: enough to find a bad id, a bad filter, a wrong body type,
#: few enough that the two runs together stay within a few minutes.
MAX_EXAMPLES = 6
#: Anonymous callers are refused before any parsing: a few examples per operation suffice.
ANONYMOUS_EXAMPLES = 2

pytestmark = pytest.mark.django_db


def _schema():
    from django.core.wsgi import get_wsgi_application

    schema = schemathesis.openapi.from_dict(yaml.safe_load(DOC.read_text()))
    schema.app = get_wsgi_application()
    return schema


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())


def _public(op) -> bool:
    """Operations documented as open to anonymous callers (``security: [{}]``)."""
    return any(not req for req in op.definition.raw.get("security", [{"x": []}]))


def _resolves(path: str) -> bool:
    """Whether a path names a view at all (an id that is not a number is no route: a 404)."""
    from urllib.parse import unquote

    from django.urls import Resolver404, resolve

    try:
        resolve(unquote(path))
    except Resolver404:
        return False
    return True


def _fuzz(schema, headers: dict[str, str], *, examples: int, anonymous: bool = False) -> list[str]:
    """Positive (schema-valid) and negative (schema-violating) requests to every operation;
    the problems found, one per operation and cause."""
    errors: list[str] = []
    tracebacks: list[str] = []
    seen: set[tuple[str, str, str]] = set()

    def report(key, text):
        if key not in seen:
            seen.add(key)
            errors.append(text)

    def on_exception(sender, request=None, **kwargs):
        tracebacks.append(traceback.format_exc())

    def check(op, mode, case):
        tracebacks.clear()
        sid = transaction.savepoint()  # each example leaves the demo county as it found it
        response = case.call(headers=headers)
        transaction.savepoint_rollback(sid)
        if response.status_code >= 500:
            last = (tracebacks[-1].strip().splitlines() or [""])[-1] if tracebacks else ""
            report((case.method, op.path, last),
                   f"{response.status_code} {case.method} {case.formatted_path} ({mode.value}) "
                   f"query={case.query} body={case.body!r:.300}\n{''.join(tracebacks)[-1200:]}")
            return
        refused_early = response.status_code == 400 and "\x00" in repr(case.query)  # the request border, before auth
        if (anonymous and not _public(op) and response.status_code not in (401, 403) and not refused_early
                and _resolves(case.formatted_path)):
            report((case.method, op.path, "open"), f"anonymous got {response.status_code}: {case.method} {case.formatted_path}")
        if mode is GenerationMode.NEGATIVE:
            return  # refused or not, only the absence of a server error is asserted
        checks = [st_checks.content_type_conformance, st_checks.response_schema_conformance]
        if response.status_code < 400:  # errors (400/401/403/404...) are not all documented
            checks.append(st_checks.status_code_conformance)
        try:
            case.validate_response(response, checks=checks)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported together
            report((case.method, op.path, "nonconforming"), f"nonconforming {case.method} {case.formatted_path}: {str(exc)[:600]}")

    got_request_exception.connect(on_exception)
    # the test's transaction must outlive each request (as django.test.Client does)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        for result in schema.get_all_operations():
            op = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _examples(op, mode, examples, check)
    finally:
        got_request_exception.disconnect(on_exception)
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return errors


def _examples(op, mode, examples: int, check) -> None:
    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case):
        check(op, mode, case)

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (an operation without parameters or body)
        assert mode is GenerationMode.NEGATIVE, op.path


def _the_issues_examples_are_refused_cleanly(auth: dict[str, str]) -> None:
    """The requests that answered 500 when the issue was filed: now a 4xx with a message."""
    from django.test import Client

    from apps.enforcement.models import DispatchPlan, PlanSubtask
    from apps.sources.models import RepairTask

    c = Client(**auth)
    plan = DispatchPlan.objects.order_by("pk").first().pk
    sub = PlanSubtask.objects.order_by("pk").first().pk
    repair = RepairTask.objects.order_by("pk").first()
    cases = [
        ("get", "/api/elements/geofences/abc/", None),
        ("get", "/api/core/audit/?remote_addr=xyz", None),
        ("get", "/api/elements/warnings/?start_before=0144-11-09T08:57:48-16:59", None),
        ("get", "/api/enforcement/performance/?since=0150-10-29T01:42:15%2B18:10", None),
        ("get", "/api/elements/geofences/?status=a%00b", None),
        ("patch", f"/api/enforcement/plans/{plan}/", {"auto_dispatch_min_level": [None, None]}),
        ("patch", f"/api/enforcement/plans/{plan}/", {"name": "长" * 81}),
        ("patch", f"/api/enforcement/plans/{plan}/", {"name": "a\x00b"}),
        ("patch", f"/api/enforcement/plan-subtasks/{sub}/", {"order": -1}),
        ("post", "/api/sources/standards/", {"min_count": {}}),
        ("post", "/api/sources/market-entities/", {"name": "x", "address": "址" * 201}),
        ("patch", f"/api/enforcement/plans/{plan}/", [None, None]),
    ]
    if repair is not None:
        cases.append(("post", f"/api/sources/repairs/{repair.pk}/close/", [None, None]))
    for method, url, body in cases:
        sid = transaction.savepoint()
        kwargs = {} if body is None else {"data": json.dumps(body), "content_type": "application/json"}
        res = getattr(c, method)(url, **kwargs)
        transaction.savepoint_rollback(sid)
        assert 400 <= res.status_code < 500, (method, url, body, res.status_code, res.content[:300])
        if res.status_code == 400:
            assert res.json(), (url, body)


def test_the_commander_gets_no_server_error_and_only_documented_answers(demo):
    from rest_framework.authtoken.models import Token

    from apps.core.models import User

    token, _ = Token.objects.get_or_create(user=User.objects.filter(role="commander").first())
    _the_issues_examples_are_refused_cleanly({"HTTP_AUTHORIZATION": f"Token {token.key}"})
    errors = _fuzz(_schema(), {"Authorization": f"Token {token.key}"}, examples=MAX_EXAMPLES)
    assert not errors, "\n\n".join(errors) + f"\n\n{len(errors)} problems"


def test_anonymous_callers_get_no_server_error_and_no_way_in(demo):
    errors = _fuzz(_schema(), {}, examples=ANONYMOUS_EXAMPLES, anonymous=True)
    assert not errors, "\n\n".join(errors) + f"\n\n{len(errors)} problems"
