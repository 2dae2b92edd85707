-- Hand-written (not generated from schema.prisma).

-- 1. AuditEvent is append-only: UPDATE, DELETE and TRUNCATE are refused for every database user.
--    Tampering by someone who can drop this trigger is still detected by the hash chain (prevHash/hash).
--    Test helpers that must empty the table (tests/integration/helpers/db.ts resetDatabase) run with
--    session_replication_role = replica, which a superuser only can set.
CREATE FUNCTION "switchyard_audit_append_only"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'AuditEvent is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Audit rows are never changed or deleted; append a new event instead.';
END;
$$;

CREATE TRIGGER "AuditEvent_append_only"
  BEFORE UPDATE OR DELETE ON "AuditEvent"
  FOR EACH ROW EXECUTE FUNCTION "switchyard_audit_append_only"();

CREATE TRIGGER "AuditEvent_no_truncate"
  BEFORE TRUNCATE ON "AuditEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION "switchyard_audit_append_only"();

-- 2. The socket.io Postgres adapter's attachment table (@socket.io/postgres-adapter 0.5.0, default table
--    name, DDL from its README). Created here rather than at run time: two instances starting at once
--    race on CREATE TABLE IF NOT EXISTS. Declared external in lib/db/migrate.ts (EXTERNAL_TABLES) and
--    prisma.config.ts so that generated migrations never drop it.
CREATE TABLE IF NOT EXISTS socket_io_attachments (
    id          bigserial UNIQUE,
    created_at  timestamptz DEFAULT NOW(),
    payload     bytea
);
