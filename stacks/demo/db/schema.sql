-- The demo's tables; idempotent (runs at every start).
SET ROLE app;
CREATE TABLE IF NOT EXISTS locations (code text PRIMARY KEY, name text NOT NULL, parent text);
CREATE TABLE IF NOT EXISTS offices (code text PRIMARY KEY, name text NOT NULL, location text NOT NULL);
CREATE TABLE IF NOT EXISTS users (username text PRIMARY KEY, name text NOT NULL, role text NOT NULL, office text NOT NULL, password_hash text NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  id uuid PRIMARY KEY,
  type text NOT NULL CHECK (type IN ('birth', 'death')),
  name text NOT NULL,
  event_date date NOT NULL,
  office_code text NOT NULL,
  attachment_sha256 text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS seed_runs (at timestamptz NOT NULL, offices int, locations int, users int);
