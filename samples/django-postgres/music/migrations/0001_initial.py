from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Artist",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, unique=True)),
                ("genre", models.CharField(blank=True, max_length=100)),
            ],
        ),
        migrations.CreateModel(
            name="Album",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=200)),
                ("released", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("artist", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="albums", to="music.Artist")),
            ],
            options={"ordering": ["artist__name", "released", "title"]},
        ),
    ]
