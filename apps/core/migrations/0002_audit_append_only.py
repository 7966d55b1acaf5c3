"""Make the audit trail append-only at the database level, and enable PostGIS where available."""
from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION xiangshan_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_append_only ON auditlog_logentry;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION xiangshan_audit_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_append_only ON auditlog_logentry;
DROP FUNCTION IF EXISTS xiangshan_audit_append_only();
"""
# SQLite's flush (used between tests) deletes rows, so there only UPDATE is refused.
SQLITE_FORWARD = """
CREATE TRIGGER IF NOT EXISTS audit_append_only BEFORE UPDATE ON auditlog_logentry
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS audit_append_only;"


def forward(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
            if cursor.fetchone():
                schema_editor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    elif conn.vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif conn.vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auditlog", "0017_add_actor_email")]
    operations = [migrations.RunPython(forward, backward)]
