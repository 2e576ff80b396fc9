-- PostgreSQL for InboxLite: a login role that owns one database (the nodes create and migrate the
-- tables in it; no superuser needed), and a read-only role for people and reports.
-- Run once as a superuser, with the passwords as psql variables (they never reach the shell history):
--   sudo -u postgres psql -v app_password="'$(openssl rand -hex 24)'" -v reader_password="'$(openssl rand -hex 24)'" \
--        -f deploy/postgresql-setup.sql
-- then give each node INBOXLITE_DATABASE_URL=postgres://inboxlite@DB_HOST:5432/inboxlite?sslmode=verify-full
-- and the app password in INBOXLITE_DATABASE_PASSWORD_FILE.
\set ON_ERROR_STOP on
CREATE ROLE inboxlite LOGIN PASSWORD :app_password;
-- template0 + UTF8: message text in any script; the collation of comparisons is the server's default.
CREATE DATABASE inboxlite OWNER inboxlite ENCODING 'UTF8' TEMPLATE template0;

-- Read-only access for analysts, dashboards and psql sessions (never the nodes).
CREATE ROLE inboxlite_reader LOGIN PASSWORD :reader_password;
\connect inboxlite
GRANT CONNECT ON DATABASE inboxlite TO inboxlite_reader;
GRANT USAGE ON SCHEMA public TO inboxlite_reader;
-- Tables the nodes create later (migrations) are readable too.
ALTER DEFAULT PRIVILEGES FOR ROLE inboxlite IN SCHEMA public GRANT SELECT ON TABLES TO inboxlite_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO inboxlite_reader;
ALTER ROLE inboxlite_reader SET default_transaction_read_only = on;
