from django.db import migrations
from django.db.models import Exists, OuterRef


def set_note_flags(apps, schema_editor):
    """The `srn` flags of every stored response from its case's notes: one UPDATE ... WHERE EXISTS, so a
    database of millions of responses is done in one pass instead of a round trip per response."""
    CaseEvent = apps.get_model("cases", "CaseEvent")
    Response = apps.get_model("feedback", "Response")
    notes = CaseEvent.objects.filter(case__response=OuterRef("pk"), type="note")
    spoken = notes.filter(data__spoke_to_customer=True)
    Response.objects.filter(Exists(notes)).update(has_notes=True, spoken_to=Exists(spoken))


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0009_response_note_flags'),
        ('cases', '0006_root_cause_and_action_taken'),
    ]

    operations = [
        # Backwards there is nothing to undo: going back past 0009 drops the columns.
        migrations.RunPython(set_note_flags, migrations.RunPython.noop),
    ]
