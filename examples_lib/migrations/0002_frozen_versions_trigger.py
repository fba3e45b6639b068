"""Versions never change: a trigger refuses UPDATE of a frozen example, and DELETE of frozen examples or
versions unless `goldloop.allow_version_delete` is on for the transaction (only services.datasets.dataset_delete
sets it, with SET LOCAL). A version's content fields may be set once, while it is being sealed (sha256 still
empty, inside the transaction that froze it); its note and who froze it may change."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION examples_lib_refuse_frozen_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF coalesce(current_setting('goldloop.allow_version_delete', true), '') = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'goldloop: % rows of a dataset version are immutable; delete the whole dataset instead',
            TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_TABLE_NAME = 'examples_lib_datasetversion' THEN
        IF OLD.sha256 = '' OR (
            NEW.dataset_id = OLD.dataset_id AND NEW.number = OLD.number AND NEW.sha256 = OLD.sha256
            AND NEW.counts = OLD.counts AND NEW.example_count = OLD.example_count
            AND NEW.parent_id IS NOT DISTINCT FROM OLD.parent_id AND NEW.created_at = OLD.created_at
        ) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'goldloop: % rows of a dataset version are immutable; freeze a new version instead',
        TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER examples_lib_versionexample_immutable
    BEFORE UPDATE OR DELETE ON examples_lib_versionexample
    FOR EACH ROW EXECUTE FUNCTION examples_lib_refuse_frozen_change();

CREATE TRIGGER examples_lib_datasetversion_immutable
    BEFORE UPDATE OR DELETE ON examples_lib_datasetversion
    FOR EACH ROW EXECUTE FUNCTION examples_lib_refuse_frozen_change();
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS examples_lib_datasetversion_immutable ON examples_lib_datasetversion;
DROP TRIGGER IF EXISTS examples_lib_versionexample_immutable ON examples_lib_versionexample;
DROP FUNCTION IF EXISTS examples_lib_refuse_frozen_change();
"""


class Migration(migrations.Migration):
    dependencies = [("examples_lib", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
