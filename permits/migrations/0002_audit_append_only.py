"""The audit table refuses UPDATE and DELETE: records are appended, never changed (see permits.audit)."""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION permits_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER permits_auditrecord_append_only
    BEFORE UPDATE OR DELETE ON permits_auditrecord
    FOR EACH ROW EXECUTE FUNCTION permits_audit_append_only();
"""
ALLOW = """
DROP TRIGGER IF EXISTS permits_auditrecord_append_only ON permits_auditrecord;
DROP FUNCTION IF EXISTS permits_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("permits", "0001_initial")]
    operations = [migrations.RunSQL(FORBID, ALLOW)]
