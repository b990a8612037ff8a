-- The store areas added after the first schema (fees, qualifications, the
-- duty pattern, spare parts, the office console), the outbox's claims and
-- the store's own small records. Same conventions as 0001: JSONB records
-- with their encoding version in v, the columns their indexes need, text
-- keys COLLATE "C".

-- Small records of the store itself: the health stamp of Ping.
CREATE TABLE meta (
	name  text COLLATE "C" PRIMARY KEY,
	value text NOT NULL
);

-- The residents' fee questions, one per ticket; open ones by time asked
-- (to the microsecond, then the ticket).
CREATE TABLE fee_questions (
	ticket_id text COLLATE "C" PRIMARY KEY,
	asked     timestamptz NOT NULL,
	open      boolean NOT NULL,
	v         int NOT NULL,
	data      jsonb NOT NULL
);
CREATE INDEX fee_questions_open ON fee_questions (asked, ticket_id) WHERE open;

-- The weekly duty pattern: one row.
CREATE TABLE roster (
	name text COLLATE "C" PRIMARY KEY,
	v    int NOT NULL,
	data jsonb NOT NULL
);

-- The office console's links and sessions, under the hash of their token.
CREATE TABLE console_links (
	hash    text COLLATE "C" PRIMARY KEY,
	expires timestamptz NOT NULL,
	v       int NOT NULL,
	data    jsonb NOT NULL
);
CREATE TABLE console_sessions (
	hash      text COLLATE "C" PRIMARY KEY,
	person_id text COLLATE "C" NOT NULL,
	expires   timestamptz NOT NULL,
	v         int NOT NULL,
	data      jsonb NOT NULL
);
CREATE INDEX console_sessions_person ON console_sessions (person_id, hash);

-- Qualifications: skills, certificates (with the first deadline of the
-- live ones for the daily sweep), reminder marks, training sessions and
-- the people they concern, and each person's audit trail.
CREATE TABLE skills (
	person_id text COLLATE "C" NOT NULL,
	skill     text COLLATE "C" NOT NULL,
	v         int NOT NULL,
	data      jsonb NOT NULL,
	PRIMARY KEY (person_id, skill)
);
CREATE TABLE certs (
	id        text COLLATE "C" PRIMARY KEY,
	person_id text COLLATE "C" NOT NULL,
	submitted timestamptz NOT NULL,
	due       text COLLATE "C", -- YYYYMMDD of the first deadline while live; NULL: never due
	v         int NOT NULL,
	data      jsonb NOT NULL
);
CREATE INDEX certs_person ON certs (person_id, submitted, id);
CREATE INDEX certs_due ON certs (due, id) WHERE due IS NOT NULL;
CREATE TABLE cert_reminders (
	cert_id text COLLATE "C" NOT NULL,
	mark    text COLLATE "C" NOT NULL,
	at      timestamptz NOT NULL,
	PRIMARY KEY (cert_id, mark)
);
CREATE TABLE training_sessions (
	id        text COLLATE "C" PRIMARY KEY,
	start_sec timestamptz NOT NULL,
	v         int NOT NULL,
	data      jsonb NOT NULL
);
CREATE INDEX training_sessions_start ON training_sessions (start_sec, id);
CREATE TABLE training_session_people (
	person_id  text COLLATE "C" NOT NULL,
	session_id text COLLATE "C" NOT NULL REFERENCES training_sessions (id) ON DELETE CASCADE,
	PRIMARY KEY (person_id, session_id)
);
CREATE INDEX training_session_people_session ON training_session_people (session_id);
CREATE TABLE person_events (
	person_id text COLLATE "C" NOT NULL,
	seq       int NOT NULL,
	v         int NOT NULL,
	data      jsonb NOT NULL,
	PRIMARY KEY (person_id, seq)
);

-- Spare parts: the catalog, the stores, the append-only ledger (seq is the
-- move's Seq; posted_at never decreases along it) with its indexes as
-- columns, the levels it projects to, purchases (open ones indexed),
-- scraps, stocktakes and low-stock alerts.
CREATE TABLE parts (
	code text COLLATE "C" PRIMARY KEY,
	v    int NOT NULL,
	data jsonb NOT NULL
);
CREATE TABLE stock_locations (
	id   text COLLATE "C" PRIMARY KEY,
	v    int NOT NULL,
	data jsonb NOT NULL
);
CREATE TABLE stock_moves (
	seq       bigint PRIMARY KEY,
	posted_at timestamptz NOT NULL,
	part      text COLLATE "C" NOT NULL,
	ticket    text COLLATE "C",
	key       text COLLATE "C" UNIQUE,
	reverses  bigint UNIQUE, -- the move this one reverses: one reversal each
	v         int NOT NULL,
	data      jsonb NOT NULL
);
CREATE INDEX stock_moves_part ON stock_moves (part, seq);
CREATE INDEX stock_moves_ticket ON stock_moves (ticket, seq) WHERE ticket IS NOT NULL;
CREATE INDEX stock_moves_posted ON stock_moves (posted_at, seq);
CREATE TABLE stock_levels (
	location text COLLATE "C" NOT NULL,
	part     text COLLATE "C" NOT NULL,
	v        int NOT NULL,
	data     jsonb NOT NULL,
	PRIMARY KEY (location, part)
);
CREATE TABLE purchase_requests (
	id            text COLLATE "C" PRIMARY KEY,
	requested_sec timestamptz NOT NULL,
	open          boolean NOT NULL,
	v             int NOT NULL,
	data          jsonb NOT NULL
);
CREATE INDEX purchase_requests_open ON purchase_requests (requested_sec, id) WHERE open;
CREATE TABLE scrap_requests (
	id   text COLLATE "C" PRIMARY KEY,
	v    int NOT NULL,
	data jsonb NOT NULL
);
CREATE TABLE stocktakes (
	id   text COLLATE "C" PRIMARY KEY,
	v    int NOT NULL,
	data jsonb NOT NULL
);
CREATE TABLE low_stock_alerts (
	part  text COLLATE "C" NOT NULL,
	store text COLLATE "C" NOT NULL,
	v     int NOT NULL,
	data  jsonb NOT NULL,
	PRIMARY KEY (part, store)
);

-- Outbox claims: a dispatcher claims the rows it reads for a while
-- (claimed_by, claimed_until), so a second dispatcher against the same
-- database (two replicas that both believe they lead, for the moments a
-- lost leader needs to notice) skips them and every later row of their
-- address: per-address order holds across processes. claimed_by is the
-- number of the claiming store's session advisory lock: a claim counts
-- only while that lock is held, so a dead process's claims lapse with its
-- connection. The 0001 column locked_until was never used; the claim
-- replaces it.
ALTER TABLE outbox DROP COLUMN locked_until;
ALTER TABLE outbox ADD COLUMN claimed_by int, ADD COLUMN claimed_until timestamptz, ADD COLUMN requeued timestamptz;
CREATE INDEX outbox_failed ON outbox (id) WHERE status = 'failed';
