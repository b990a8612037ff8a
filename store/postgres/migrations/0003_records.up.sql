-- The records areas (issue 16): the KPI walk over the tickets by report
-- time, the tickets of a place (repeat faults), the quality-control
-- reviews and the phone-callback list. Same conventions as 0001.
--
-- A ticket's brief (flows.TicketBrief, what the KPI walk reads) and its
-- place key (flows.PlaceKey, NULL when it names none) are written by every
-- PutTicket. Neither can be computed in SQL: the rows written before this
-- step (brief IS NULL) are filled by the program at Open.
ALTER TABLE tickets ADD COLUMN place text COLLATE "C", ADD COLUMN brief jsonb;
CREATE INDEX tickets_created ON tickets (created_sec, id);
CREATE INDEX tickets_place ON tickets (place, created_sec, id) WHERE place IS NOT NULL;
CREATE INDEX tickets_unbriefed ON tickets (id) WHERE brief IS NULL;

-- One review per ticket; the open ones (status not done) by the second
-- they were created, then the ticket.
CREATE TABLE qc_reviews (
	ticket_id   text COLLATE "C" PRIMARY KEY,
	created_sec timestamptz NOT NULL,
	open        boolean NOT NULL,
	v           int NOT NULL,
	data        jsonb NOT NULL
);
CREATE INDEX qc_reviews_open ON qc_reviews (created_sec, ticket_id) WHERE open;

-- One line per ticket, by the second it was put on the list, then the ticket.
CREATE TABLE phone_callbacks (
	ticket_id text COLLATE "C" PRIMARY KEY,
	since_sec timestamptz NOT NULL,
	v         int NOT NULL,
	data      jsonb NOT NULL
);
CREATE INDEX phone_callbacks_since ON phone_callbacks (since_sec, ticket_id);
