"""GIN indexes for the case list's full-text search, on PostgreSQL only (SQLite searches with LIKE).

Built from closeloop.feedback.search's expressions by Django's own index SQL, so the planner finds them for
the queries that use the same expressions.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

from closeloop.feedback.search import CUSTOMER_INDEX, RESPONSE_INDEX, customer_vector, response_vector


def _indexes(apps):
    return [
        (apps.get_model("feedback", "Response"), GinIndex(response_vector(), name=RESPONSE_INDEX)),
        (apps.get_model("feedback", "Customer"), GinIndex(customer_vector(), name=CUSTOMER_INDEX)),
    ]


def add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for model, index in _indexes(apps):
            schema_editor.add_index(model, index)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for model, index in _indexes(apps):
            schema_editor.remove_index(model, index)


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0004_response_words"),
    ]

    operations = [migrations.RunPython(add, remove)]
