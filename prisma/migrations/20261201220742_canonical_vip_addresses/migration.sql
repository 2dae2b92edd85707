-- VIPs are stored in their canonical form (lib/validation/pairs.ts canonicalIp): IPv6 in lower case with
-- the longest run of zero groups compressed, IPv4 as given. Postgres's inet output is that same form
-- (both are inet_ntop), so rows written before the API normalised them are brought into it here, and the
-- uniqueness check compares like with like. Every stored vipAddress passed the API's IP check; the CASE
-- keeps the cast to IPv6-looking text all the same (SQL does not promise to evaluate AND left to right).
UPDATE "Pair"
   SET "vipAddress" = host("vipAddress"::inet)
 WHERE CASE WHEN "vipAddress" ~ '^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$' THEN "vipAddress" <> host("vipAddress"::inet) ELSE false END;
