-- The flows store on PostgreSQL. One table per bbolt bucket family; every
-- record is JSONB with the schema version of its encoding in v, plus the
-- columns its indexes need. Text keys are COLLATE "C": byte order, the order
-- bbolt keys sort in, whatever the database's locale. Columns named *_sec
-- hold a time truncated to the second: the order (and the ties, broken by
-- the id) of the bbolt index keys they replace.
--
-- golang-migrate runs this file as one multi-statement query, which
-- PostgreSQL executes as one transaction: it applies whole or not at all.

CREATE TABLE cursors (
	name  text COLLATE "C" PRIMARY KEY,
	value text NOT NULL
);

-- Inbound dedupe marks, with the time for pruning.
CREATE TABLE seen (
	key text COLLATE "C" PRIMARY KEY,
	at  timestamptz NOT NULL
);
CREATE INDEX seen_at ON seen (at);

CREATE TABLE people (
	id   text COLLATE "C" PRIMARY KEY,
	role text COLLATE "C" NOT NULL,
	v    int NOT NULL,
	data jsonb NOT NULL
);
CREATE INDEX people_role ON people (role, id);

CREATE TABLE tickets (
	id          text COLLATE "C" PRIMARY KEY,
	resident_id text COLLATE "C" NOT NULL,
	assignee_id text COLLATE "C" NOT NULL,
	created_sec timestamptz NOT NULL,
	open        boolean NOT NULL,
	v           int NOT NULL,
	data        jsonb NOT NULL
);
CREATE INDEX tickets_resident ON tickets (resident_id, created_sec, id);
-- The open tickets are a few hundred of millions: both partial indexes stay small.
CREATE INDEX tickets_open ON tickets (created_sec, id) WHERE open;
CREATE INDEX tickets_assignee ON tickets (assignee_id, created_sec, id) WHERE open;

-- History: a ticket is listed on every second it changed (Updated).
CREATE TABLE ticket_touches (
	at_sec    timestamptz NOT NULL,
	ticket_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (at_sec, ticket_id)
);

-- The audit trail; seq is 1, 2, 3... per ticket (also in data).
CREATE TABLE ticket_events (
	ticket_id text COLLATE "C" NOT NULL,
	seq       int NOT NULL,
	v         int NOT NULL,
	data      jsonb NOT NULL,
	PRIMARY KEY (ticket_id, seq)
);

-- Named sequences: "ticket:<day>" (ticket numbers), "seq:<name>" (NextSeq).
CREATE TABLE counters (
	name text COLLATE "C" PRIMARY KEY,
	n    bigint NOT NULL
);

CREATE TABLE dialogues (
	person_id text COLLATE "C" PRIMARY KEY,
	v         int NOT NULL,
	data      jsonb NOT NULL
);

CREATE TABLE invites (
	code text COLLATE "C" PRIMARY KEY,
	v    int NOT NULL,
	data jsonb NOT NULL
);

CREATE TABLE complaints (
	seq  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	v    int NOT NULL,
	data jsonb NOT NULL
);

CREATE TABLE timers (
	key  text COLLATE "C" PRIMARY KEY,
	due  timestamptz NOT NULL,
	v    int NOT NULL,
	data jsonb NOT NULL
);
CREATE INDEX timers_due ON timers (due, key);

CREATE TABLE handovers (
	day     text COLLATE "C" NOT NULL,
	tech_id text COLLATE "C" NOT NULL,
	v       int NOT NULL,
	data    jsonb NOT NULL,
	PRIMARY KEY (day, tech_id)
);

CREATE TABLE daily_lists (
	day  text COLLATE "C" PRIMARY KEY,
	v    int NOT NULL,
	data jsonb NOT NULL
);

CREATE TABLE duty_overrides (
	person_id text COLLATE "C" PRIMARY KEY,
	v         int NOT NULL,
	data      jsonb NOT NULL
);

CREATE TABLE sop_versions (
	number int PRIMARY KEY,
	v      int NOT NULL,
	data   jsonb NOT NULL
);

CREATE TABLE sop_acks (
	version   int NOT NULL,
	person_id text COLLATE "C" NOT NULL,
	v         int NOT NULL,
	data      jsonb NOT NULL,
	PRIMARY KEY (version, person_id)
);

CREATE TABLE reviews (
	id     text COLLATE "C" PRIMARY KEY,
	opened timestamptz NOT NULL,
	v      int NOT NULL,
	data   jsonb NOT NULL
);

CREATE TABLE suggestions (
	seq  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	v    int NOT NULL,
	data jsonb NOT NULL
);

-- The transactional outbox. Rows are inserted by Enqueue in the event's
-- transaction; ids grow in insertion order, and a transaction that depends
-- on another (it read what the other wrote) starts after the other
-- committed, so its rows have larger ids: per-address order is id order.
-- The delivery record is columns, so a dispatcher can claim with
--   SELECT ... WHERE status = 'pending' AND (locked_until IS NULL OR locked_until < now())
--   ORDER BY id FOR UPDATE SKIP LOCKED
-- and skip an address whose earlier row is still claimed.
CREATE TABLE outbox (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	chat         text COLLATE "C" NOT NULL, -- Message.To as "channel:chat"
	prio         int NOT NULL,
	created      timestamptz NOT NULL,
	status       text NOT NULL DEFAULT 'pending', -- pending, delivered, failed, superseded
	attempts     int NOT NULL DEFAULT 0,
	next_attempt timestamptz,
	locked_until timestamptz,
	last_error   text NOT NULL DEFAULT '',
	done         timestamptz,
	platform_id  text NOT NULL DEFAULT '',
	v            int NOT NULL,
	msg          jsonb NOT NULL -- flows.Message
);
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
CREATE INDEX outbox_pending_chat ON outbox (chat, id) WHERE status = 'pending';
CREATE INDEX outbox_done ON outbox (done) WHERE status IN ('delivered', 'superseded');

-- Where each card was delivered (its platform message id), for later edits.
CREATE TABLE cards (
	card_key text COLLATE "C" PRIMARY KEY,
	v        int NOT NULL,
	data     jsonb NOT NULL
);
