from django.db import migrations, models

BATCH = 2000


def fill_words(apps, schema_editor):
    """Responses stored before `words` existed get their customer's words from their answers."""
    Question = apps.get_model("feedback", "Question")
    Response = apps.get_model("feedback", "Response")
    text_keys: dict[int, list[str]] = {}
    for survey_id, key in Question.objects.filter(type="text").order_by("survey_id", "position").values_list(
        "survey_id", "key"
    ):
        text_keys.setdefault(survey_id, []).append(key)
    last = 0
    while True:
        batch = list(Response.objects.filter(pk__gt=last).order_by("pk").only("pk", "survey_id", "answers")[:BATCH])
        if not batch:
            return
        for response in batch:
            answers = response.answers or {}
            texts = (answers.get(key) for key in text_keys.get(response.survey_id, ()))
            response.words = "\n".join(t.strip() for t in texts if isinstance(t, str) and t.strip())
        Response.objects.bulk_update([r for r in batch if r.words], ["words"])
        last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0003_survey_threshold_language_and_recordings'),
    ]

    operations = [
        migrations.AddField(
            model_name='response',
            name='words',
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(fill_words, migrations.RunPython.noop),
    ]
