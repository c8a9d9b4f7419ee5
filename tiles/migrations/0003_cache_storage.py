"""The tile cache is a cache: no WAL for it (lost on a crash, rebuilt on demand) and no compression of tiles
(MVT bytes barely compress, and pglz costs time on every write and read)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tiles", "0002_change_triggers")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE tiles_tile SET UNLOGGED; ALTER TABLE tiles_tile ALTER COLUMN data SET STORAGE EXTERNAL;",
            "ALTER TABLE tiles_tile ALTER COLUMN data SET STORAGE EXTENDED; ALTER TABLE tiles_tile SET LOGGED;",
        )
    ]
