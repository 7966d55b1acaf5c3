"""The API description: generated from the code without errors or warnings, and the copy in
docs/api/openapi.yaml is the current one (regenerate it with the command in the message)."""
from pathlib import Path

import pytest
from django.core.management import call_command

DOC = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"
REGENERATE = "DATABASE_URL=... REDIS_URL=... python manage.py spectacular --validate --file docs/api/openapi.yaml (production mode: PostgreSQL field ranges)"


def test_schema_generates_cleanly_and_matches_the_committed_copy(tmp_path, capsys):
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text() == DOC.read_text(), f"docs/api/openapi.yaml is stale: run `{REGENERATE}`"


@pytest.mark.django_db
def test_every_endpoint_is_documented(client, users):
    client.force_login(users["duty"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = set(schema["paths"])
    for prefix in ("/api/core/", "/api/elements/", "/api/enforcement/", "/api/sources/", "/api/reporting/", "/api/cockpit/", "/api/intel/"):
        assert any(p.startswith(prefix) for p in paths), prefix
