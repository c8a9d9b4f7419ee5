"""Load the procedure catalogue and the large-project rules from ``permits/data`` (historical models)."""

from django.db import migrations


def load(apps, schema_editor):
    from permits.catalogue import procedure_catalogue_load

    procedure_catalogue_load(
        procedure_model=apps.get_model("permits", "Procedure"),
        checklist_model=apps.get_model("permits", "ChecklistItem"),
        rule_model=apps.get_model("permits", "ClassificationRule"),
    )


class Migration(migrations.Migration):
    dependencies = [("permits", "0002_audit_append_only")]
    # Reversing keeps the rows: dossiers may already point to the procedures (PROTECT).
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
