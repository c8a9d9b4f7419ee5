"""The vector-tile cache and the per-layer change counter."""

from django.db import migrations, models

# Layers whose features the change triggers watch (tiles.vector.TILE_SPECS): each gets its counter row.
LAYERS = ("authorised_works", "parcels", "zoning", "constraints", "admin_areas", "dossiers")


def create_generations(apps, schema_editor):
    LayerGeneration = apps.get_model("tiles", "LayerGeneration")
    for layer in LAYERS:
        LayerGeneration.objects.get_or_create(layer=layer)


class Migration(migrations.Migration):
    initial = True

    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="CachedTile",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("layer", models.CharField(max_length=40)),
                ("z", models.PositiveSmallIntegerField()),
                ("x", models.PositiveIntegerField()),
                ("y", models.PositiveIntegerField()),
                ("data", models.BinaryField()),
                ("etag", models.CharField(max_length=40)),
                ("created", models.DateTimeField(auto_now_add=True)),
            ],
            options={"db_table": "tiles_tile"},
        ),
        migrations.AddConstraint(
            model_name="cachedtile",
            constraint=models.UniqueConstraint(fields=["layer", "z", "x", "y"], name="tiles_tile_unique_address"),
        ),
        migrations.CreateModel(
            name="LayerGeneration",
            fields=[
                ("layer", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("generation", models.BigIntegerField(default=0)),
            ],
            options={"db_table": "tiles_layergeneration"},
        ),
        migrations.RunPython(create_generations, migrations.RunPython.noop),
    ]
