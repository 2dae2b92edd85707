-- Hand-written (not generated from schema.prisma): notifications that let the active controller react
-- without polling.
--   switchyard_operations: payload = Operation id, on INSERT (a switchover request from the API or an
--                          automatic decision) and on a status change.
--   switchyard_config:     payload = '<table>:<id>', on any change of Host, Pair or Server (the leader
--                          reloads its configuration and agent links).

CREATE FUNCTION "switchyard_notify_operation"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
    PERFORM pg_notify('switchyard_operations', NEW.id::text);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER "Operation_notify"
  AFTER INSERT OR UPDATE OF status ON "Operation"
  FOR EACH ROW EXECUTE FUNCTION "switchyard_notify_operation"();

CREATE FUNCTION "switchyard_notify_config"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  rid text;
BEGIN
  IF TG_OP = 'DELETE' THEN rid := OLD.id::text; ELSE rid := NEW.id::text; END IF;
  PERFORM pg_notify('switchyard_config', TG_TABLE_NAME || ':' || rid);
  RETURN NULL;
END;
$$;

CREATE TRIGGER "Host_notify_config"
  AFTER INSERT OR UPDATE OR DELETE ON "Host"
  FOR EACH ROW EXECUTE FUNCTION "switchyard_notify_config"();

CREATE TRIGGER "Pair_notify_config"
  AFTER INSERT OR UPDATE OR DELETE ON "Pair"
  FOR EACH ROW EXECUTE FUNCTION "switchyard_notify_config"();

CREATE TRIGGER "Server_notify_config"
  AFTER INSERT OR UPDATE OR DELETE ON "Server"
  FOR EACH ROW EXECUTE FUNCTION "switchyard_notify_config"();
