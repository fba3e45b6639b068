"""Moving monitoring out of feedback (feedback 0012, monitoring 0001) keeps the tables, their rows and content types."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("feedback", "0011_embedding_similarity_index_per_project"), ("monitoring", None)]
AFTER = [("feedback", "0012_monitoring_moved_out"), ("monitoring", "0001_initial")]


@pytest.fixture
def back_to_the_latest_migrations():
    """Leave the schema as the other tests expect it: migrations added after AFTER applied again."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_migrating_forward_keeps_rows_and_content_types_of_the_moved_models(back_to_the_latest_migrations):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = MigrationExecutor(connection).loader.project_state(BEFORE[:1]).apps
    ContentType = old.get_model("contenttypes", "ContentType")
    Permission = old.get_model("auth", "Permission")
    Group = old.get_model("auth", "Group")
    ContentType.objects.filter(app_label="monitoring").delete()
    rule_type, _ = ContentType.objects.get_or_create(app_label="feedback", model="alertrule")
    permission, _ = Permission.objects.get_or_create(
        content_type=rule_type, codename="view_alertrule", defaults={"name": "Can view alert rule"}
    )
    group, _ = Group.objects.get_or_create(name="Moved-models readers")
    group.permissions.add(permission)
    project = old.get_model("feedback", "Project").objects.create(slug="moved", name="Moved")
    rule = old.get_model("feedback", "AlertRule").objects.create(
        project=project, name="too negative", metric="negative_rate", threshold=0.2
    )
    alert = old.get_model("feedback", "Alert").objects.create(rule=rule, opened_at="2026-01-01T00:00Z", value=0.3)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    from monitoring.models import Alert, AlertRule

    assert AlertRule._meta.db_table == "feedback_alertrule"
    assert Alert.objects.get(pk=alert.pk).rule.name == "too negative"
    assert AlertRule.objects.get(pk=rule.pk).project.slug == "moved"
    rule_type.refresh_from_db()
    assert rule_type.app_label == "monitoring"
    assert group.permissions.filter(content_type__app_label="monitoring", codename="view_alertrule").exists()
    assert not ContentType.objects.filter(app_label="feedback", model="alertrule").exists()
