"""Stored fixes: on PostgreSQL a table partitioned by UTC day, on SQLite the plain table of 0002.

Daily partitions (``elements_fix_pYYYYMMDD``) are created on demand before each insert
(``apps.elements.fixstore``); a default partition catches anything that slips past that, so
an insert never fails for want of a partition. Retention drops whole day partitions.
"""
from django.db import migrations

PARTITIONED = """
DROP TABLE "elements_fix";
CREATE TABLE "elements_fix" (
    "ts" timestamp with time zone NOT NULL,
    "lon_e7" integer NOT NULL,
    "lat_e7" integer NOT NULL,
    "sog_dkn" smallint NULL,
    "cog_ddeg" smallint NULL,
    "vessel_id" bigint NOT NULL
        REFERENCES "elements_vessel" ("id") DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY ("vessel_id", "ts")
) PARTITION BY RANGE ("ts");
CREATE TABLE "elements_fix_default" PARTITION OF "elements_fix" DEFAULT;
"""

PLAIN = """
DROP TABLE "elements_fix";
CREATE TABLE "elements_fix" (
    "ts" timestamp with time zone NOT NULL,
    "lon_e7" integer NOT NULL,
    "lat_e7" integer NOT NULL,
    "sog_dkn" smallint NULL,
    "cog_ddeg" smallint NULL,
    "vessel_id" bigint NOT NULL
        REFERENCES "elements_vessel" ("id") DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY ("vessel_id", "ts")
);
"""


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PARTITIONED)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PLAIN)


class Migration(migrations.Migration):

    dependencies = [
        ("elements", "0002_pipeline_tables"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition),
    ]
