"""Load the organisations and member-selection rules from ``permits/data`` (historical models).

Committees belong to a commune: those of ``committees.json`` are created here only for the communes
that already exist; otherwise ``seed_demo`` (the demo commune) or ``manage.py load_committees`` does it.
"""

from django.db import migrations


def load(apps, schema_editor):
    from permits.catalogue import committee_catalogue_load

    committee_catalogue_load(
        organisation_model=apps.get_model("permits", "Organisation"),
        rule_model=apps.get_model("permits", "SelectionRule"),
        committee_model=apps.get_model("permits", "Committee"),
        area_model=apps.get_model("geo", "AdminArea"),
    )


class Migration(migrations.Migration):
    dependencies = [("permits", "0004_committees")]
    # Reversing keeps the rows: dossiers, opinions and sessions may already point to them (PROTECT).
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
