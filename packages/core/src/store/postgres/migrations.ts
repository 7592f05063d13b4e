// The schema, as numbered migrations. Each server runs `migrate` when it
// first touches the database: one transaction holding a transaction-level
// advisory lock, so servers starting together wait for one another instead
// of racing (the second finds the work done). A database newer than this
// program is refused rather than written with an older idea of its shape.

import type pg from 'pg';
import { KeywardError } from '../../refusal.js';
import { FOLD, SCHEMA, checkout, folded, privilegeRefused, searchedText } from './sql.js';

/** A constant every Keyward server agrees on: "keyward migrations" as a 64-bit number. */
const MIGRATION_LOCK = 0x6b6579776172646dn;

/** The oldest PostgreSQL Keyward runs on: 14 (13 is out of support since November 2025). */
export const MIN_SERVER_VERSION = 140000;

/** PostgreSQL 17 brought the pg_c_utf8 collation: from it, a server without ICU still has a fold (FOLD). */
const PG_C_UTF8_SINCE = 170000;

/** The trigger that bumps the count of committed changes (migration 3, count_change) for every statement writing `table`. */
function countedChanges(table: string): string {
  return `CREATE TRIGGER ${table}_change_counted AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${SCHEMA}.${table}
        FOR EACH STATEMENT EXECUTE FUNCTION ${SCHEMA}.count_change();`;
}

/** Transaction-local settings a transaction sets when it counts its keys (key_counts) and its change (change_count) itself: migration 8's triggers then skip it. */
const KEYS_COUNTED = 'keyward.keys_counted';
const CHANGE_COUNTED = 'keyward.change_counted';

/**
 * What a create decided on what a server last saw locks first (migrations 6
 * to 9): what the locking reads lock, in their order (`seen_tenant`,
 * `locked`; `who` declared). Indented for its place in those functions.
 */
const LOCKS_AS_READ = `-- The locks the locking reads take, in their order: the tenant, then each user.
        IF seen_tenant THEN
          PERFORM 1 FROM ${SCHEMA}.tenant FOR SHARE;
        END IF;
        FOREACH who IN ARRAY locked LOOP
          PERFORM 1 FROM ${SCHEMA}.users u WHERE u.id = who FOR UPDATE;
        END LOOP;`;

/**
 * The end of every create procedure since migration 7, once its COMMIT is
 * durable: the NOTIFY in a transaction of its own that does not wait for the
 * disk, naming the slot this backend counted the change in and the count it
 * left there (change-count.ts), in place of the payload's last brace, as
 * changes.ts announce writes it. Written at the procedures' indentation, so
 * their SQL stays byte for byte what earlier servers ran.
 */
const ANNOUNCE_WITH_COUNT = `PERFORM set_config('synchronous_commit', 'off', true);
        PERFORM pg_notify(channel, left(payload, -1) || ',"s":' || s.slot || ',"v":' || coalesce((SELECT c.n FROM ${SCHEMA}.change_count c WHERE c.slot = s.slot), 0) || '}')
          FROM (SELECT pg_backend_pid() % 1024 AS slot) s;`;

/** An owner's active keys at `a.at`, counted (the check of a count as seen, migrations 6 to 9). */
const COUNTED_AGAIN = `(SELECT count(*) FROM ${SCHEMA}.keys k WHERE k.owner = a.owner AND k.revoked_at IS NULL AND k.expiry > a.at)`;

/** STILL_AS_SEEN's parts: the tenant and the users as seen; each owner's active count, counted again; the new keys' ids free. */
const TENANT_AND_USERS_AS_SEEN = `(NOT seen_tenant OR (SELECT t.record FROM ${SCHEMA}.tenant t) IS NOT DISTINCT FROM tenant_as_seen)
          AND NOT EXISTS (SELECT FROM unnest(seen_users) WITH ORDINALITY AS s(id, i)
            WHERE (SELECT u.record FROM ${SCHEMA}.users u WHERE u.id = s.id) IS DISTINCT FROM nullif(users_as_seen -> (s.i::int - 1), 'null'::jsonb))`;
const COUNTS_AS_SEEN = `AND NOT EXISTS (SELECT FROM unnest(counted_owners, counted_at, counted) AS a(owner, at, n)
            WHERE ${COUNTED_AGAIN} <> a.n)`;
const ABSENT_AS_SEEN = `AND NOT EXISTS (SELECT FROM ${SCHEMA}.keys k WHERE k.id = ANY(absent))`;
/** The same expectation failing, as a look that lets the whole check decide says it. */
const ABSENT_NOT_AS_SEEN = ABSENT_AS_SEEN.replace('AND NOT EXISTS', 'OR EXISTS');

/**
 * Whether what a create was decided on is still the database's, once the
 * locks of LOCKS_AS_READ are held (migration 7, the users as seen as one
 * JSON array): the argument of still_as_seen (migration 4). Indented for its
 * place in that procedure; putNewKeysProcedure puts its own count check
 * between the same parts.
 */
const STILL_AS_SEEN = `${TENANT_AND_USERS_AS_SEEN}
          ${COUNTS_AS_SEEN}
          ${ABSENT_AS_SEEN}`;

/**
 * Migration 9's change count in place of counting: each owner's count as seen
 * holds if the owner's keys' mark in key_counts (`mark`, a column expression
 * of `c`) is the one seen with it and none of them crossed its expiry
 * between the time it was counted (`since`) and the create's (`at`);
 * counted again where no mark was seen.
 */
function countsAsSeenBy(mark: string): string {
  return `AND NOT EXISTS (SELECT FROM unnest(counted_owners, counted_at, counted, counted_changes, counted_since) AS a(owner, at, n, changes, since)
            WHERE CASE WHEN a.changes IS NULL THEN ${COUNTED_AGAIN} <> a.n
              ELSE coalesce((SELECT ${mark} FROM ${SCHEMA}.key_counts c WHERE c.owner = a.owner), 0) <> a.changes
                OR EXISTS (SELECT FROM ${SCHEMA}.keys k WHERE k.owner = a.owner AND k.revoked_at IS NULL
                  AND k.expiry > least(a.since, a.at) AND k.expiry <= greatest(a.since, a.at)) END)`;
}

/** Migration 9's mark: the owner's keys' changes. */
const COUNTS_AS_SEEN_BY_CHANGES = countsAsSeenBy('c.changes');

/**
 * Migration 10's mark in place of migration 9's: the owner's keys' changes
 * plus their number (keys-table.ts CHANGE_MARK), not the changes alone. A
 * create of migration 8's procedure under way as migration 9 ran (waiting
 * at the owner's lock) runs the body it started with, which bumps the
 * number of keys but not their changes; the sum moves for it too. Every
 * write that can make an owner's active keys more moves the sum (a key
 * added, one changed); a deletion may leave it as it was, and leaves fewer
 * active keys.
 */
const COUNTS_AS_SEEN_BY_MARK = countsAsSeenBy('c.changes + c.n');

/**
 * How a create procedure bumps key_counts for its new keys, as count_keys
 * would: migration 8's counted their number; since migration 9, their
 * changes too. `says` is its line of the procedure's comment.
 */
const KEYS_COUNTED_BY_NUMBER = {
  says: "each owner's keys (count_keys)",
  sql: `INSERT INTO ${SCHEMA}.key_counts (owner, n) SELECT owner, count(*) FROM made GROUP BY owner
            ON CONFLICT (owner) DO UPDATE SET n = ${SCHEMA}.key_counts.n + excluded.n`,
};
const KEYS_COUNTED_WITH_CHANGES = {
  says: "each owner's keys and their changes (count_keys)",
  sql: `INSERT INTO ${SCHEMA}.key_counts (owner, n, changes) SELECT owner, count(*), count(*) FROM made GROUP BY owner
            ON CONFLICT (owner) DO UPDATE SET n = ${SCHEMA}.key_counts.n + excluded.n, changes = ${SCHEMA}.key_counts.changes + excluded.changes`,
};

/** The arguments put_counted_keys_and_announce takes beyond put_new_keys_and_announce's (migrations 9 and 10), after a space. */
const COUNTED_SINCE_ARGUMENTS = ' counted_changes bigint[], counted_since timestamptz[],';

/**
 * The create procedures of migrations 8 to 10 (see migration 8 for what they
 * do): `create`, CREATE or CREATE OR REPLACE; `extraArguments`, what follows
 * `counted bigint[],` in the signature — migration 9 wrote a space there
 * even where it added nothing, and its SQL must stay byte for byte what
 * servers ran; `countsAsSeen`, the check that each owner's active count as
 * seen still holds (COUNTS_AS_SEEN, COUNTS_AS_SEEN_BY_CHANGES or
 * COUNTS_AS_SEEN_BY_MARK); `keysCounted`, how it bumps key_counts.
 */
function putNewKeysProcedure(p: {
  create: 'CREATE' | 'CREATE OR REPLACE';
  name: string;
  extraArguments: string;
  countsAsSeen: string;
  keysCounted: { says: string; sql: string };
}): string {
  return `${p.create} PROCEDURE ${SCHEMA}.${p.name}(
        seen_tenant boolean, tenant_as_seen jsonb,
        locked text[],
        seen_users text[], users_as_seen jsonb,
        counted_owners text[], counted_at timestamptz[], counted bigint[],${p.extraArguments}
        absent text[],
        new_records jsonb, event_records jsonb,
        channel text, payload text
      ) LANGUAGE plpgsql AS $$
      DECLARE
        who text;
      BEGIN
        ${LOCKS_AS_READ}
        -- Absent records are NULL on both sides (a user's JSON null is NULL here). Then: this transaction counts
        -- its keys and its change itself (below), so the keys table's counting triggers skip it.
        PERFORM ${SCHEMA}.still_as_seen(
          ${TENANT_AND_USERS_AS_SEEN}
          ${p.countsAsSeen}
          ${ABSENT_AS_SEEN}),
          set_config('${KEYS_COUNTED}', 'yes', true), set_config('${CHANGE_COUNTED}', 'yes', true);
        -- jsonb_array_elements yields the events in array order, so seq keeps the order they were emitted in.
        -- The counts as the triggers keep them: ${p.keysCounted.says}, and one change (count_change).
        WITH made AS (
          INSERT INTO ${SCHEMA}.keys (id, owner, created_by, description, created, expiry, revoked_at, record)
            SELECT r->>'id', r->>'owner', r->>'createdBy', r->>'description', (r->>'created')::timestamptz, (r->>'expiry')::timestamptz, (r->>'revokedAt')::timestamptz, r
            FROM jsonb_array_elements(new_records) r
            RETURNING owner
        ), emitted AS (
          INSERT INTO ${SCHEMA}.events (id, event_type, event_time, user_id, key_id, record)
            SELECT r->>'id', r->>'eventType', (r->>'eventTime')::timestamptz, r->>'userId', r->>'keyId', r
            FROM jsonb_array_elements(event_records) r
        ), counted_keys AS (
          ${p.keysCounted.sql}
        )
        INSERT INTO ${SCHEMA}.change_count (slot, n) VALUES (pg_backend_pid() % 1024, 1)
          ON CONFLICT (slot) DO UPDATE SET n = ${SCHEMA}.change_count.n + 1;
        COMMIT;
        -- As migration 7's procedure: the slot and the count this backend left there, in place of the payload's last brace.
        ${ANNOUNCE_WITH_COUNT}
      END $$;`;
}

/**
 * Migration 12's create procedure: migration 10's arguments, answers and
 * writes, checked for less. Its locks answer the rows they lock — the newest
 * version, which nothing can change until this transaction ends, so the value
 * a fresh read after them would see — and the tenant and users as seen are
 * compared with those in PL/pgSQL. One statement then asks, with a fresh
 * snapshot, the rest of migration 10's question for the common case (every
 * count seen with its mark): did a mark move or a key expire, is a new key's
 * id taken. Where that cannot say "holds" (anything not as seen, a count
 * without a mark, a row the locks did not find), migration 10's whole check
 * (still_as_seen) decides, as it did — so this passes exactly what it
 * passed. The whole check was one statement of five subplans, each set up
 * for every create (the count-again aggregate too, though a marked count never
 * runs it), and a second PL/pgSQL call. The NOTIFY names the count this
 * transaction left in its slot, returned by the statement that bumped it,
 * rather than the slot read again after the commit (which another backend on
 * the same slot may have bumped meanwhile: change-count.ts).
 * `wholeCheck`: what it does where that look cannot say "holds"
 * (WHOLE_CHECK; migration 13's LIMIT_OR_WHOLE_CHECK).
 */
function putCountedKeysCheckedAtTheLocks(wholeCheck: string): string {
  return `CREATE OR REPLACE PROCEDURE ${SCHEMA}.put_counted_keys_and_announce(
        seen_tenant boolean, tenant_as_seen jsonb,
        locked text[],
        seen_users text[], users_as_seen jsonb,
        counted_owners text[], counted_at timestamptz[], counted bigint[],${COUNTED_SINCE_ARGUMENTS}
        absent text[],
        new_records jsonb, event_records jsonb,
        channel text, payload text
      ) LANGUAGE plpgsql AS $$
      DECLARE
        who text;
        found_record jsonb;
        -- Each user's record as its lock found it, by id; whether the tenant and users as seen are those.
        as_locked jsonb := '{}';
        holds boolean := seen_tenant IS NOT NULL;
        seen_at int := 0;
        counted_in int;
        left_there bigint;
      BEGIN
        -- The locks the locking reads take, in their order: the tenant, then each user.
        IF seen_tenant THEN
          SELECT t.record INTO found_record FROM ${SCHEMA}.tenant t FOR SHARE;
          holds := FOUND AND found_record IS NOT DISTINCT FROM tenant_as_seen;
        END IF;
        FOREACH who IN ARRAY locked LOOP
          SELECT u.record INTO found_record FROM ${SCHEMA}.users u WHERE u.id = who FOR UPDATE;
          IF FOUND THEN
            as_locked := as_locked || jsonb_build_object(who, found_record);
          END IF;
        END LOOP;
        FOREACH who IN ARRAY coalesce(seen_users, '{}') LOOP
          holds := holds AND (as_locked ? who) AND (as_locked -> who) IS NOT DISTINCT FROM nullif(users_as_seen -> seen_at, 'null'::jsonb);
          seen_at := seen_at + 1;
        END LOOP;
        -- Absent records are NULL on both sides (a user's JSON null is NULL here).
        IF holds IS NOT TRUE
          OR EXISTS (SELECT FROM unnest(counted_owners, counted_at, counted, counted_changes, counted_since) AS a(owner, at, n, changes, since)
            WHERE ${MARK_OR_EXPIRY_MOVED})
          ${ABSENT_NOT_AS_SEEN} THEN
${wholeCheck}
        END IF;
        -- This transaction counts its keys and its change itself (below), so the keys table's counting triggers skip it.
        PERFORM set_config('${KEYS_COUNTED}', 'yes', true);
        PERFORM set_config('${CHANGE_COUNTED}', 'yes', true);
        -- jsonb_array_elements yields the events in array order, so seq keeps the order they were emitted in.
        -- The counts as the triggers keep them: ${KEYS_COUNTED_WITH_CHANGES.says}, and one change (count_change).
        WITH made AS (
          INSERT INTO ${SCHEMA}.keys (id, owner, created_by, description, created, expiry, revoked_at, record)
            SELECT r->>'id', r->>'owner', r->>'createdBy', r->>'description', (r->>'created')::timestamptz, (r->>'expiry')::timestamptz, (r->>'revokedAt')::timestamptz, r
            FROM jsonb_array_elements(new_records) r
            RETURNING owner
        ), emitted AS (
          INSERT INTO ${SCHEMA}.events (id, event_type, event_time, user_id, key_id, record)
            SELECT r->>'id', r->>'eventType', (r->>'eventTime')::timestamptz, r->>'userId', r->>'keyId', r
            FROM jsonb_array_elements(event_records) r
        ), counted_keys AS (
          ${KEYS_COUNTED_WITH_CHANGES.sql}
        )
        INSERT INTO ${SCHEMA}.change_count (slot, n) VALUES (pg_backend_pid() % 1024, 1)
          ON CONFLICT (slot) DO UPDATE SET n = ${SCHEMA}.change_count.n + 1
          RETURNING ${SCHEMA}.change_count.slot, ${SCHEMA}.change_count.n INTO counted_in, left_there;
        COMMIT;
        -- The NOTIFY in a transaction of its own that does not wait for the disk, naming the slot and the count
        -- this transaction left there, in place of the payload's last brace, as changes.ts announce writes it.
        PERFORM set_config('synchronous_commit', 'off', true);
        PERFORM pg_notify(channel, left(payload, -1) || ',"s":' || counted_in || ',"v":' || left_there || '}');
      END $$;`;
}

/**
 * Migration 12's check of one owner's count as seen (a row `a` of the
 * counted owners), for the common case: it fails where no mark was seen,
 * the mark moved, or a key crossed its expiry in between.
 */
const MARK_OR_EXPIRY_MOVED = `a.changes IS NULL
              OR coalesce((SELECT c.changes + c.n FROM ${SCHEMA}.key_counts c WHERE c.owner = a.owner), 0) <> a.changes
              OR EXISTS (SELECT FROM ${SCHEMA}.keys k WHERE k.owner = a.owner AND k.revoked_at IS NULL
                AND k.expiry > least(a.since, a.at) AND k.expiry <= greatest(a.since, a.at))`;

/** Migration 12's: where the common case's look cannot say "holds", migration 10's whole check decides. */
const WHOLE_CHECK = `          PERFORM ${SCHEMA}.still_as_seen(
          ${TENANT_AND_USERS_AS_SEEN}
          ${COUNTS_AS_SEEN_BY_MARK}
          ${ABSENT_AS_SEEN});`;

const PUT_COUNTED_KEYS_CHECKED_AT_THE_LOCKS = putCountedKeysCheckedAtTheLocks(WHOLE_CHECK);

/**
 * Migration 13's: where migration 12's look cannot say "holds", a second
 * look, before the whole check — a count whose mark moved still holds where
 * the key limit holds whatever the count now is: the owner's keys of every
 * status (key_counts.n, never fewer than the active ones) and the keys this
 * statement makes for the owner are no more than the tenant's
 * maxKeysPerUser. A count is asked of the store only for that limit
 * (policy.ts checkGenerate), so a create decided on it is decided alike on
 * any count up to that many. It holds only under the locks that make it the
 * database's: the tenant locked as seen (its limit is the one decided on),
 * every user as seen locked (holds), and the owner's row locked and found
 * (every create for the owner waits there, so none commits between this
 * look and this COMMIT). Where it cannot say so either, the whole check
 * decides, as in migration 12. Another server's create for the same owner,
 * committed a moment before and not yet heard of, moves the mark: with keys
 * still to go to the limit, that is no longer a refusal, a count read again
 * and a statement more. A look of its own, asked only where the first one
 * failed: in the common case's statement, it had PostgreSQL plan that
 * statement anew on every call (724 µs of its CPU per create, not 457).
 */
const LIMIT_OR_WHOLE_CHECK = `          IF holds IS NOT TRUE OR seen_tenant IS NOT TRUE
            OR EXISTS (SELECT FROM unnest(counted_owners, counted_at, counted, counted_changes, counted_since) AS a(owner, at, n, changes, since)
              WHERE (${MARK_OR_EXPIRY_MOVED})
                AND NOT coalesce(a.owner = ANY(locked) AND as_locked ? a.owner
                  AND coalesce((SELECT c.n FROM ${SCHEMA}.key_counts c WHERE c.owner = a.owner), 0)
                    + (SELECT count(*) FROM jsonb_array_elements(new_records) r WHERE r->>'owner' = a.owner)
                    <= (tenant_as_seen #>> '{settings,maxKeysPerUser}')::numeric, false))
            ${ABSENT_NOT_AS_SEEN} THEN
  ${WHOLE_CHECK}
          END IF;`;

/** The search indexes, by name: what each holds the trigrams of. */
const SEARCH_INDEXES = {
  // Each key's searchedText: its folded description and owner (migration 15).
  keys_search: searchedText(''),
  // Each key's id (migration 16): a search that may be in an id (hexadecimal) read every id without it.
  keys_id_search: 'id',
} as const;
type SearchIndexName = keyof typeof SEARCH_INDEXES;
/** Every search index's name: what a server's upkeep builds where missing, and merges (search-upkeep.ts). */
export const SEARCH_INDEX_NAMES = Object.keys(SEARCH_INDEXES) as SearchIndexName[];
/** SQL true where every one of `names` is there. */
const allThere = (names: readonly SearchIndexName[]) => names.map((name) => `to_regclass('${SCHEMA}.${name}') IS NOT NULL`).join(' AND ');

/** A search index's DDL, its operator class from `trgm`, the schema pg_trgm is in (a format() placeholder in indexesForSearch). */
export function searchIndex(trgm: string, name: SearchIndexName = 'keys_search'): string {
  return `CREATE INDEX IF NOT EXISTS ${name} ON ${SCHEMA}.keys USING gin (${SEARCH_INDEXES[name]} ${trgm}.gin_trgm_ops)`;
}

/** Every search index's DDL, as searchIndex gives each (benches build them after a bulk load). */
export const searchIndexes = (trgm: string): string[] => SEARCH_INDEX_NAMES.map((name) => searchIndex(trgm, name));

/**
 * The search indexes (migrations 15 and 16): the trigrams of every key's
 * searchedText, and of its id, in GIN indexes (pg_trgm), so a search of three
 * characters or more reads the keys that may hold it rather than every key,
 * and its count too. PostgreSQL ships pg_trgm with its contrib modules (every managed
 * service has it) and trusts it: a role that may create in the database may
 * add it, here into Keyward's own schema unless the database already has it
 * elsewhere. Where it is not there to add, or the role may not add it,
 * nothing is made and searches scan every key, as they did; a server that
 * starts on a schema without the indexes tries again (migrate, called for its
 * upkeep: schemaState), so one the database administrator adds pg_trgm to
 * later gets them. A
 * create appends its key's trigrams to each index's pending list (GIN's
 * fastupdate, PostgreSQL's default), ~20 µs of the database's time, and
 * its server merges the lists now and then (search-upkeep.ts).
 */
function indexesForSearch(names: readonly SearchIndexName[]): string {
  return `DO $do$
      DECLARE
        trgm name := (SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm');
      BEGIN
        IF ${allThere(names)} THEN
          RETURN;
        END IF;
        IF trgm IS NULL AND NOT EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'pg_trgm') THEN
          RETURN;
        END IF;
        BEGIN
          IF trgm IS NULL THEN
            CREATE EXTENSION pg_trgm SCHEMA ${SCHEMA};
            trgm := '${SCHEMA}';
          END IF;
          ${names.map((name) => `EXECUTE format($index$${searchIndex('%I', name)}$index$, trgm);`).join('\n          ')}
        EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
          -- Not this role's to add (42501), or not installed with the server (58P01): searches scan.
        END;
      END $do$;`;
}

/** Every search index, each where it is missing: a server's upkeep (migrate). */
const INDEX_SEARCH = indexesForSearch(SEARCH_INDEX_NAMES);

const MIGRATIONS: readonly { version: number; why: string; sql: string }[] = [
  {
    version: 1,
    why: 'tenant, users, keys, events, usage aggregates and client addresses',
    sql: `
      CREATE TABLE ${SCHEMA}.tenant (
        only_one boolean PRIMARY KEY DEFAULT true CHECK (only_one),
        id text NOT NULL,
        record jsonb NOT NULL
      );
      CREATE TABLE ${SCHEMA}.users (
        id text COLLATE "C" PRIMARY KEY,
        record jsonb NOT NULL
      );
      -- Columns for every question asked of keys; the record as the engine wrote it.
      CREATE TABLE ${SCHEMA}.keys (
        id text COLLATE "C" PRIMARY KEY,
        owner text COLLATE "C" NOT NULL,
        created_by text COLLATE "C" NOT NULL,
        -- Folded with FOLD wherever it is searched or sorted (migration 14); a database made before has pg_c_utf8 here, to the same effect.
        description text COLLATE "C" NOT NULL,
        created timestamptz NOT NULL,
        expiry timestamptz NOT NULL,
        revoked_at timestamptz,
        record jsonb NOT NULL
      );
      -- Each list order: its value, then newest first, then id (the engine's tie rule).
      CREATE INDEX keys_by_created ON ${SCHEMA}.keys (created DESC, id);
      CREATE INDEX keys_by_description ON ${SCHEMA}.keys (lower(description), created DESC, id);
      CREATE INDEX keys_by_owner ON ${SCHEMA}.keys (owner, created DESC, id);
      CREATE INDEX keys_by_creator ON ${SCHEMA}.keys (created_by, created DESC, id);
      CREATE INDEX keys_by_expiry ON ${SCHEMA}.keys (expiry, created DESC, id);
      -- The key limit's question: an owner's keys neither revoked nor expired.
      CREATE INDEX keys_active_by_owner ON ${SCHEMA}.keys (owner, expiry) WHERE revoked_at IS NULL;
      CREATE INDEX keys_revoked ON ${SCHEMA}.keys (revoked_at) WHERE revoked_at IS NOT NULL;

      -- Append-only; seq is the order of appending ("newest first" reads it backwards).
      CREATE TABLE ${SCHEMA}.events (
        seq bigserial PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        event_type text NOT NULL,
        event_time timestamptz NOT NULL,
        user_id text COLLATE "C" NOT NULL,
        key_id text COLLATE "C",
        record jsonb NOT NULL
      );
      CREATE INDEX events_by_time ON ${SCHEMA}.events (event_time);
      CREATE INDEX events_by_type ON ${SCHEMA}.events (event_type, seq);
      CREATE INDEX events_by_key ON ${SCHEMA}.events (key_id, seq) WHERE key_id IS NOT NULL;
      CREATE INDEX events_by_user ON ${SCHEMA}.events (user_id, seq);

      -- Uses per key per minute as each server counted them: a server only
      -- ever updates its own rows, so servers never wait on each other here.
      CREATE TABLE ${SCHEMA}.usage (
        key_id text COLLATE "C" NOT NULL,
        minute bigint NOT NULL,
        server text NOT NULL,
        uses bigint NOT NULL,
        last_used bigint NOT NULL,
        PRIMARY KEY (key_id, minute, server)
      );
      CREATE INDEX usage_by_minute ON ${SCHEMA}.usage (minute);
      -- Last use ever, kept apart from the minutes retention removes.
      CREATE TABLE ${SCHEMA}.last_use (
        key_id text COLLATE "C" PRIMARY KEY,
        last_used bigint NOT NULL
      );
      CREATE INDEX last_use_by_time ON ${SCHEMA}.last_use (last_used);
      CREATE TABLE ${SCHEMA}.addresses (
        key_id text COLLATE "C" NOT NULL,
        address text NOT NULL,
        last_seen bigint NOT NULL,
        PRIMARY KEY (key_id, address)
      );
      CREATE INDEX addresses_newest ON ${SCHEMA}.addresses (key_id, last_seen DESC);
    `,
  },
  {
    version: 2,
    why: "keys counted per owner, so a list's total is not a count of every key",
    sql: `
      CREATE TABLE ${SCHEMA}.key_counts (
        owner text COLLATE "C" PRIMARY KEY,
        n bigint NOT NULL
      );
      INSERT INTO ${SCHEMA}.key_counts SELECT owner, count(*) FROM ${SCHEMA}.keys GROUP BY owner;
      -- Kept by the database itself, in the transaction that changes the keys.
      CREATE FUNCTION ${SCHEMA}.count_keys() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
          UPDATE ${SCHEMA}.key_counts SET n = n - 1 WHERE owner = OLD.owner;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          INSERT INTO ${SCHEMA}.key_counts (owner, n) VALUES (NEW.owner, 1)
            ON CONFLICT (owner) DO UPDATE SET n = ${SCHEMA}.key_counts.n + 1;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER keys_counted AFTER INSERT OR DELETE OR UPDATE OF owner ON ${SCHEMA}.keys
        FOR EACH ROW EXECUTE FUNCTION ${SCHEMA}.count_keys();
    `,
  },
  {
    version: 3,
    why: 'a count of committed changes to what verify and the caches read, so a server notices a change whose NOTIFY never came',
    // See change-count.ts for how the count is read. Kept by
    // the database itself, so a change made in plain SQL counts too. Once per
    // transaction (a transaction-local setting remembers it), so each
    // transaction that sends a NOTIFY bumps it exactly once. Spread over
    // slots by the backend's pid: a transaction holds its slot's row until it
    // commits, and transactions on different connections must not queue on
    // one row through each other's fsync.
    sql: `
      CREATE TABLE ${SCHEMA}.change_count (
        slot int PRIMARY KEY,
        n bigint NOT NULL
      );
      CREATE FUNCTION ${SCHEMA}.count_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_setting('keyward.change_counted', true) IS DISTINCT FROM 'yes' THEN
          INSERT INTO ${SCHEMA}.change_count (slot, n) VALUES (pg_backend_pid() % 1024, 1)
            ON CONFLICT (slot) DO UPDATE SET n = ${SCHEMA}.change_count.n + 1;
          PERFORM set_config('keyward.change_counted', 'yes', true);
        END IF;
        RETURN NULL;
      END $$;
      ${countedChanges('tenant')}
      ${countedChanges('users')}
      ${countedChanges('keys')}
    `,
  },
  {
    version: 4,
    why: 'a refusal a transaction raises when what it was decided on has changed, so a create sent whole in one round trip writes nothing then',
    // See expectations.ts: a create decided on what this server last saw is
    // sent with that checked under the owner's lock; when it no longer holds,
    // this aborts the transaction (SQLSTATE KW001) and the create runs the
    // locking way. It decides nothing itself: it only says whether a value
    // Keyward already checked is still the one it checked.
    sql: `
      CREATE FUNCTION ${SCHEMA}.still_as_seen(holds boolean) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF holds IS NOT TRUE THEN
          RAISE EXCEPTION 'what this transaction was decided on has changed since it was read' USING ERRCODE = 'KW001';
        END IF;
      END $$;
    `,
  },
  {
    version: 5,
    why: "keys' last uses in the count of committed changes, so a server keeps them until a flush names them",
    // A usage flush writes last_use (and addresses) in one transaction and
    // names the keys in its notification (changes.ts counted); counted like
    // the other changes, a flush whose NOTIFY was lost, or usage written in
    // plain SQL, is found by the heartbeat (change-count.ts) instead of
    // needing every server to read last uses again each second.
    sql: `
      ${countedChanges('last_use')}
      ${countedChanges('addresses')}
    `,
  },
  {
    version: 6,
    why: 'a create decided on what a server last saw is one statement: locks, the check that it still holds, the new keys and their events, committed when it answers',
    // See expectations.ts putKeysAsSeen. Called alone, outside BEGIN … COMMIT,
    // it is a transaction of its own (one Bind/Execute/Sync, one answer after
    // the commit) instead of BEGIN, locks, check, writes and COMMIT each
    // answered apart. It decides nothing: the rules were applied in core,
    // and still_as_seen (migration 4) only says whether each value they were
    // applied to is still the database's once the locks are held. Each
    // statement of a volatile function takes a fresh snapshot, so the check
    // sees what every transaction it waited for at the locks committed. The
    // mark is what the NOTIFY sent behind it looks for (changes.ts announce):
    // set here, it stays set only if this transaction commits.
    sql: `
      CREATE FUNCTION ${SCHEMA}.put_keys_as_seen(
        mark text,
        seen_tenant boolean, tenant_as_seen jsonb,
        locked text[],
        seen_users text[], users_as_seen jsonb[],
        counted_owners text[], counted_at timestamptz[], counted bigint[],
        absent text[],
        new_ids text[], new_owners text[], new_creators text[], new_descriptions text[],
        new_created timestamptz[], new_expiry timestamptz[], new_revoked timestamptz[], new_records jsonb[],
        event_ids text[], event_types text[], event_times timestamptz[], event_users text[], event_keys text[], event_records jsonb[]
      ) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        who text;
      BEGIN
        PERFORM set_config('keyward.committed', mark, false);
        ${LOCKS_AS_READ}
        -- Absent records are NULL on both sides.
        PERFORM ${SCHEMA}.still_as_seen(
          (NOT seen_tenant OR (SELECT t.record FROM ${SCHEMA}.tenant t) IS NOT DISTINCT FROM tenant_as_seen)
          AND NOT EXISTS (SELECT FROM unnest(seen_users, users_as_seen) AS s(id, record)
            WHERE (SELECT u.record FROM ${SCHEMA}.users u WHERE u.id = s.id) IS DISTINCT FROM s.record)
          AND NOT EXISTS (SELECT FROM unnest(counted_owners, counted_at, counted) AS a(owner, at, n)
            WHERE (SELECT count(*) FROM ${SCHEMA}.keys k WHERE k.owner = a.owner AND k.revoked_at IS NULL AND k.expiry > a.at) <> a.n)
          AND NOT EXISTS (SELECT FROM ${SCHEMA}.keys k WHERE k.id = ANY(absent)));
        INSERT INTO ${SCHEMA}.keys (id, owner, created_by, description, created, expiry, revoked_at, record)
          SELECT * FROM unnest(new_ids, new_owners, new_creators, new_descriptions, new_created, new_expiry, new_revoked, new_records);
        -- unnest yields the rows in array order, so seq keeps the order they were emitted in.
        INSERT INTO ${SCHEMA}.events (id, event_type, event_time, user_id, key_id, record)
          SELECT * FROM unnest(event_ids, event_types, event_times, event_users, event_keys, event_records);
      END $$;
    `,
  },
  {
    version: 7,
    why: "a create decided on what a server last saw and its notification are one statement: the key's transaction, then the NOTIFY's",
    // See expectations.ts putKeysAndAnnounce. What migration 6's function
    // does, as a procedure that commits the key's transaction itself and then
    // sends the NOTIFY in a transaction of its own that does not wait for the
    // disk — what changes.ts announce did as a second statement behind it, so
    // a create costs PostgreSQL one statement and its server one answer (and
    // no mark: the procedure knows it committed). CALLed alone, outside BEGIN
    // … COMMIT, as a procedure must be to commit. The new keys' and events'
    // records come as one JSON array each (element i is row i's), not as
    // jsonb[] whose text escapes every quote of every record. Migration 6's
    // function stays: a server of the version before calls it until it is
    // upgraded, and both bump the same counts and announce alike.
    sql: `
      CREATE PROCEDURE ${SCHEMA}.put_keys_and_announce(
        seen_tenant boolean, tenant_as_seen jsonb,
        locked text[],
        seen_users text[], users_as_seen jsonb,
        counted_owners text[], counted_at timestamptz[], counted bigint[],
        absent text[],
        new_ids text[], new_owners text[], new_creators text[], new_descriptions text[],
        new_created timestamptz[], new_expiry timestamptz[], new_revoked timestamptz[], new_records jsonb,
        event_ids text[], event_types text[], event_times timestamptz[], event_users text[], event_keys text[], event_records jsonb,
        channel text, payload text
      ) LANGUAGE plpgsql AS $$
      DECLARE
        who text;
      BEGIN
        ${LOCKS_AS_READ}
        -- Absent records are NULL on both sides (a user's JSON null is NULL here).
        PERFORM ${SCHEMA}.still_as_seen(
          ${STILL_AS_SEEN});
        INSERT INTO ${SCHEMA}.keys (id, owner, created_by, description, created, expiry, revoked_at, record)
          SELECT k.id, k.owner, k.created_by, k.description, k.created, k.expiry, k.revoked_at, new_records -> (k.i::int - 1)
          FROM unnest(new_ids, new_owners, new_creators, new_descriptions, new_created, new_expiry, new_revoked)
            WITH ORDINALITY AS k(id, owner, created_by, description, created, expiry, revoked_at, i);
        -- unnest yields the rows in array order, so seq keeps the order they were emitted in.
        INSERT INTO ${SCHEMA}.events (id, event_type, event_time, user_id, key_id, record)
          SELECT e.id, e.event_type, e.event_time, e.user_id, e.key_id, event_records -> (e.i::int - 1)
          FROM unnest(event_ids, event_types, event_times, event_users, event_keys)
            WITH ORDINALITY AS e(id, event_type, event_time, user_id, key_id, i);
        COMMIT;
        -- The notification names the slot this backend counted the change in and the count it left there
        -- (change-count.ts), in place of the payload's last brace, as changes.ts announce writes it.
        ${ANNOUNCE_WITH_COUNT}
      END $$;
    `,
  },
  {
    version: 8,
    why: "a create decided on what a server last saw counts its keys and its change in the statement that writes them, and takes the new rows' columns from their records",
    // See expectations.ts and putNewKeysProcedure. What migration 7's procedure
    // does, with less for the database to run: the keys table's two
    // counting triggers (count_keys per row, count_change per statement) were
    // two PL/pgSQL calls a create, each running its own statements; here the
    // procedure says it counts (two transaction-local settings, set with its
    // check) and bumps both counts itself, as the triggers would, in one
    // statement with its writes. The triggers skip a transaction that said
    // so in their WHEN, which PostgreSQL evaluates without calling them; any
    // other writer — migration 7's procedure, a locking transaction, plain
    // SQL — is counted by them as before. The new keys' and events' columns
    // come from their records (as keyColumns and eventColumns read them), so
    // the create is bound with 13 values instead of 25. Migration 7's
    // procedure stays, unchanged, for a server of the version before.
    sql: `
      DROP TRIGGER keys_counted ON ${SCHEMA}.keys;
      CREATE TRIGGER keys_counted AFTER INSERT OR DELETE OR UPDATE OF owner ON ${SCHEMA}.keys
        FOR EACH ROW WHEN (current_setting('${KEYS_COUNTED}', true) IS DISTINCT FROM 'yes') EXECUTE FUNCTION ${SCHEMA}.count_keys();
      DROP TRIGGER keys_change_counted ON ${SCHEMA}.keys;
      CREATE TRIGGER keys_change_counted AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${SCHEMA}.keys
        FOR EACH STATEMENT WHEN (current_setting('${CHANGE_COUNTED}', true) IS DISTINCT FROM 'yes') EXECUTE FUNCTION ${SCHEMA}.count_change();
      ${putNewKeysProcedure({ create: 'CREATE', name: 'put_new_keys_and_announce', extraArguments: '', countsAsSeen: COUNTS_AS_SEEN, keysCounted: KEYS_COUNTED_BY_NUMBER })}
    `,
  },
  {
    version: 9,
    why: "each owner's keys carry a count of their changes, so a create checks the key limit without counting the owner's keys",
    // A create decided on an owner's active count as this server last saw it
    // (last-seen.ts) checked it under the owner's lock by counting the
    // owner's active keys again: a read of every one of them, per create —
    // the more keys an owner has, the more each create costs. Now key_counts
    // also counts every change to each owner's keys (a key made, changed in
    // any way, or deleted), kept by count_keys and by the procedures that
    // count for themselves; the count seen came with the change count of the
    // same snapshot, and if that is still the change count, the owner's keys
    // are the ones counted — the count still holds unless one of them
    // expired since it was counted, which one index probe asks. Where no
    // change count was seen, the keys are counted as before. Migration 8's
    // procedure is redefined (same arguments, same answer) to count its
    // keys' changes too, so a server of the version before, still creating
    // with it, bumps them as well.
    sql: `
      ALTER TABLE ${SCHEMA}.key_counts ADD COLUMN changes bigint NOT NULL DEFAULT 0;
      CREATE OR REPLACE FUNCTION ${SCHEMA}.count_keys() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND OLD.owner = NEW.owner THEN
          UPDATE ${SCHEMA}.key_counts SET changes = changes + 1 WHERE owner = NEW.owner;
          RETURN NULL;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
          UPDATE ${SCHEMA}.key_counts SET n = n - 1, changes = changes + 1 WHERE owner = OLD.owner;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          INSERT INTO ${SCHEMA}.key_counts (owner, n, changes) VALUES (NEW.owner, 1, 1)
            ON CONFLICT (owner) DO UPDATE SET n = ${SCHEMA}.key_counts.n + 1, changes = ${SCHEMA}.key_counts.changes + 1;
        END IF;
        RETURN NULL;
      END $$;
      -- Every update now, not only of the owner: a revoke changes the owner's active keys.
      DROP TRIGGER keys_counted ON ${SCHEMA}.keys;
      CREATE TRIGGER keys_counted AFTER INSERT OR DELETE OR UPDATE ON ${SCHEMA}.keys
        FOR EACH ROW WHEN (current_setting('${KEYS_COUNTED}', true) IS DISTINCT FROM 'yes') EXECUTE FUNCTION ${SCHEMA}.count_keys();
      ${putNewKeysProcedure({ create: 'CREATE OR REPLACE', name: 'put_new_keys_and_announce', extraArguments: ' ', countsAsSeen: COUNTS_AS_SEEN, keysCounted: KEYS_COUNTED_WITH_CHANGES })}
      ${putNewKeysProcedure({ create: 'CREATE OR REPLACE', name: 'put_counted_keys_and_announce', extraArguments: COUNTED_SINCE_ARGUMENTS, countsAsSeen: COUNTS_AS_SEEN_BY_CHANGES, keysCounted: KEYS_COUNTED_WITH_CHANGES })}
    `,
  },
  {
    version: 10,
    why: "a create checks an owner's count as seen by the owner's keys' changes plus their number, so a create of migration 8's procedure under way as migration 9 ran is noticed too",
    // Migration 9's procedure, redefined with the same arguments: see
    // COUNTS_AS_SEEN_BY_MARK. A server of the version before sends the
    // changes alone, which no longer match: its creates run the locking way
    // (they count again) until it is upgraded.
    sql: `
      ${putNewKeysProcedure({ create: 'CREATE OR REPLACE', name: 'put_counted_keys_and_announce', extraArguments: COUNTED_SINCE_ARGUMENTS, countsAsSeen: COUNTS_AS_SEEN_BY_MARK, keysCounted: KEYS_COUNTED_WITH_CHANGES })}
    `,
  },
  {
    version: 11,
    why: 'each usage flush is noted with its usage, so one sent again after its answer was lost is not counted twice',
    // A flush whose COMMIT's answer was lost may have committed; its process
    // sends it again whole, under the same name (boundary.ts FlushId), and
    // the insert here, first in its transaction, is refused for the second:
    // nothing of it is written again. Each process keeps only its latest
    // flush here (its next deletes the ones before; usage-table.ts noteFlush);
    // retention drops those of processes long gone. A server of the version
    // before writes usage as it did, without a row here.
    sql: `
      CREATE TABLE ${SCHEMA}.usage_flushes (
        flusher text NOT NULL,
        seq bigint NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (flusher, seq)
      );
    `,
  },
  {
    version: 12,
    why: 'a create sent whole checks the tenant and users as seen against what its locks found, and the rest of what it was decided on in one small statement, before the whole check',
    // See PUT_COUNTED_KEYS_CHECKED_AT_THE_LOCKS: migration 10's procedure,
    // redefined with the same arguments, answers and writes, for less of the
    // database's CPU per create. A server of the version before calls it as
    // it called migration 10's.
    sql: `
      ${PUT_COUNTED_KEYS_CHECKED_AT_THE_LOCKS}
    `,
  },
  {
    version: 13,
    why: 'a create whose owner\'s count moved since it was seen still holds where the key limit holds whatever the count now is',
    // See LIMIT_OR_WHOLE_CHECK: migration 12's procedure, with the same
    // arguments, answers and writes, refusing fewer creates. A server of the
    // version before calls it as it called migration 12's.
    sql: `
      ${putCountedKeysCheckedAtTheLocks(LIMIT_OR_WHOLE_CHECK)}
    `,
  },
  {
    version: 14,
    why: 'descriptions and owners are case-folded with a collation of Keyward\'s own, as the engine folds them: pg_unicode_fast where the server has it, else ICU\'s root locale, else pg_c_utf8; so PostgreSQL 14 to 16 serve too',
    // Migration 1 gave descriptions the collation pg_c_utf8, which PostgreSQL
    // 17 brought; a database it made keeps it (the column's collation no
    // longer matters: every fold names FOLD). The description index was on
    // lower(description) in that collation; it is built again on the text
    // queries now sort by (folded), once, under the migration lock: 0.9–1.3 s
    // for a million keys (BENCHMARKS.md, bench/fold-probe.ts). A server of
    // the version before still sorts and searches as it did, without an
    // index for that order (a sort) until it is upgraded.
    sql: `
      DO $$ BEGIN
        IF EXISTS (SELECT FROM pg_catalog.pg_collation WHERE collname = 'pg_unicode_fast') THEN
          CREATE COLLATION ${FOLD} FROM pg_unicode_fast;
        ELSIF EXISTS (SELECT FROM pg_catalog.pg_collation WHERE collname = 'und-x-icu') THEN
          CREATE COLLATION ${FOLD} FROM "und-x-icu";
        ELSE
          CREATE COLLATION ${FOLD} FROM pg_c_utf8;
        END IF;
      END $$;
      DROP INDEX ${SCHEMA}.keys_by_description;
      CREATE INDEX keys_by_description ON ${SCHEMA}.keys (${folded('description')}, created DESC, id);
    `,
  },
  {
    version: 15,
    why: 'a search reads the keys an index of trigrams (pg_trgm) says may match, not every key, where the database has pg_trgm or lets Keyward add it',
    // See indexesForSearch. Built under the migration lock: 5–7 s for a million
    // keys (bench/search-probe.ts), creates and revokes held meanwhile (reads
    // and verifies go on).
    sql: `
      ${indexesForSearch(['keys_search'])}
    `,
  },
  {
    version: 16,
    why: 'a search that may be in a key id reads the ids an index of their trigrams says may hold it, not every id',
    // See indexesForSearch. Built under the migration lock: ~2 s and 43 MB for a million keys
    // (bench/search-probe.ts), creates and revokes held meanwhile; ~3 µs of a create's insert after.
    sql: `
      ${indexesForSearch(['keys_id_search'])}
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** What migrate asks of the server before it creates anything. */
export interface ServerFacts {
  /** server_version_num, as 170004. */
  versionNum: number;
  /** server_version, as said to a person: "17.4". */
  version: string;
  /** Its und-x-icu collation exists: it was built with ICU. */
  hasIcu: boolean;
  /** The database's encoding (server_encoding), as "UTF8". */
  encoding: string;
}

/**
 * A server or database Keyward cannot run on is refused before anything is
 * created, with what to do, rather than failing halfway through the schema:
 * a server older than 14, or older than 17 built without ICU, has nothing
 * to fold case with but "C" (ASCII alone); a database not in UTF8 cannot
 * hold every description (and PostgreSQL's own folds take no other).
 */
export function checkServer(facts: ServerFacts, location: string): void {
  const { versionNum, version, hasIcu, encoding } = facts;
  if (versionNum < MIN_SERVER_VERSION || (versionNum < PG_C_UTF8_SINCE && !hasIcu)) {
    const why = versionNum < MIN_SERVER_VERSION ? '' : ' built without ICU';
    throw new KeywardError(
      'UNAVAILABLE',
      `The PostgreSQL server at ${location} is version ${version}${why}; Keyward needs PostgreSQL 17 or newer, or 14 to 16 built with ICU (for a collation that folds the case of every script). Nothing was changed; upgrade the server or use another.`,
    );
  }
  if (encoding !== 'UTF8') {
    throw new KeywardError(
      'UNAVAILABLE',
      `The PostgreSQL database at ${location} is encoded ${encoding}; Keyward needs a database encoded UTF8, to hold descriptions in any script. Nothing was changed; create one with CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0, or use another.`,
    );
  }
}

/** The version the database is at; 0 when Keyward never created its schema there. */
export async function schemaVersion(c: Pick<pg.ClientBase, 'query'>): Promise<number> {
  return (await schemaState(c)).version;
}

/** Whether FOLD's recorded version is not its library's now; NULL where there is no FOLD yet (before migration 14). */
const FOLD_CHANGED = `SELECT collversion IS DISTINCT FROM pg_catalog.pg_collation_actual_version(oid) FROM pg_catalog.pg_collation WHERE oid = to_regcollation('${FOLD}')`;

/**
 * What a server needs to know of the schema as it starts, in one query: its
 * version (0: none); whether searches have their index (keys_search, which
 * decides how a search is asked), and whether every search index is there
 * (indexesForSearch); and whether the fold's library changed under it
 * (refoldIfChanged). Where the version is current but either of the last two
 * asks for upkeep, migrate does it.
 */
export async function schemaState(c: Pick<pg.ClientBase, 'query'>): Promise<{ version: number; searchIndexed: boolean; allSearchIndexed: boolean; foldChanged: boolean }> {
  const r = await c.query<{ exists: boolean; searchIndexed: boolean; allSearchIndexed: boolean; foldChanged: boolean | null }>(
    `SELECT to_regclass('${SCHEMA}.migrations') IS NOT NULL AS exists, ${allThere(['keys_search'])} AS "searchIndexed",
            ${allThere(SEARCH_INDEX_NAMES)} AS "allSearchIndexed", (${FOLD_CHANGED}) AS "foldChanged"`,
  );
  const { exists, searchIndexed, allSearchIndexed, foldChanged } = r.rows[0];
  if (!exists) return { version: 0, searchIndexed, allSearchIndexed, foldChanged: false };
  const v = await c.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${SCHEMA}.migrations`);
  return { version: v.rows[0].version ?? 0, searchIndexed, allSearchIndexed, foldChanged: foldChanged === true };
}

/**
 * A schema named as Keyward's that holds tables with no record of Keyward's
 * migrations was made by something else (or is a partial restore): it is
 * refused whole, saying so, rather than failing at its first table of the
 * same name with the rest rolled back and no word of why.
 */
async function refuseSchemaOfAnother(c: Pick<pg.ClientBase, 'query'>, location: string): Promise<void> {
  const r = await c.query<{ name: string }>(
    `SELECT relname AS name FROM pg_catalog.pg_class WHERE relnamespace = '${SCHEMA}'::regnamespace AND relkind IN ('r', 'p', 'v', 'm') AND relname <> 'migrations' ORDER BY relname LIMIT 1`,
  );
  if (r.rows.length === 0) return;
  throw new KeywardError(
    'UNAVAILABLE',
    `The PostgreSQL database at ${location} has a schema "${SCHEMA}" that Keyward did not make: it holds tables (${JSON.stringify(r.rows[0].name)} among them) but no record of Keyward's migrations. Nothing was changed; rename that schema (ALTER SCHEMA ${SCHEMA} RENAME TO …), or point Keyward at another database.`,
  );
}

/**
 * The library a fold lowers text with can change under a running database
 * (ICU upgraded with the operating system, or PostgreSQL's own Unicode
 * tables at a major upgrade), and with it how some characters lower: the
 * description index, built on the old folding, would then miss keys or
 * list them out of order. PostgreSQL only warns of it (a collation version
 * mismatch); here the index is built again on the new folding and the
 * version recorded, once, by the first server to start after the change
 * (about a second per million keys, writes held meanwhile). A role that
 * may not (it does not own the schema) starts as before, with the index as
 * it was: the next server signed in as the owner rebuilds it.
 */
async function refoldIfChanged(c: Pick<pg.ClientBase, 'query'>): Promise<void> {
  // Asked again under the migration lock: a server that started with this one may have rebuilt it meanwhile.
  const r = await c.query<{ changed: boolean | null }>(`SELECT (${FOLD_CHANGED}) AS changed`);
  if (!r.rows[0].changed) return;
  await c.query('SAVEPOINT refold');
  try {
    await c.query(`REINDEX INDEX ${SCHEMA}.keys_by_description`);
    await c.query(`ALTER COLLATION ${FOLD} REFRESH VERSION`);
    await c.query('RELEASE SAVEPOINT refold');
  } catch (e) {
    if (!privilegeRefused(e)) throw e;
    await c.query('ROLLBACK TO SAVEPOINT refold');
  }
}

/** Brings the schema to `target` (SCHEMA_VERSION: tests stop earlier); safe to run from any number of servers at once. */
export async function migrate(pool: pg.Pool, location: string, target = SCHEMA_VERSION): Promise<void> {
  const { client: c, release } = await checkout(pool);
  let broken = false;
  try {
    // With the facts, whether the fold's library changed (refoldIfChanged): a start where it did not asks nothing more.
    const server = await c.query<ServerFacts & { foldChanged: boolean | null }>(
      `SELECT current_setting('server_version_num')::int AS "versionNum", current_setting('server_version') AS version,
              EXISTS (SELECT FROM pg_catalog.pg_collation WHERE collname = 'und-x-icu') AS "hasIcu", current_setting('server_encoding') AS encoding,
              (${FOLD_CHANGED}) AS "foldChanged"`,
    );
    checkServer(server.rows[0], location);
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.migrations (version int PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now(), why text NOT NULL)`);
    const at = await schemaVersion(c);
    if (at > SCHEMA_VERSION) {
      throw new KeywardError('UNAVAILABLE', `The PostgreSQL store at ${location} is at schema version ${at}, newer than this Keyward knows (${SCHEMA_VERSION}); upgrade Keyward.`);
    }
    if (at === 0) await refuseSchemaOfAnother(c, location);
    for (const m of MIGRATIONS) {
      if (m.version <= at || m.version > target) continue;
      await c.query(m.sql);
      await c.query(`INSERT INTO ${SCHEMA}.migrations (version, why) VALUES ($1, $2)`, [m.version, m.why]);
    }
    if (server.rows[0].foldChanged) await refoldIfChanged(c);
    // Where migration 15 or 16 could not build a search index (ran before, or ran now) and now can: returns at once where both are there.
    if (target === SCHEMA_VERSION) await c.query(INDEX_SEARCH);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => (broken = true));
    throw e;
  } finally {
    release(broken);
  }
}
