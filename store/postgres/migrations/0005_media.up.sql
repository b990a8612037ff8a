-- The kept copies of residents' photos and documents (package media, its
-- Blobs), so that every replica reads what any one received: no shared
-- file system. A copy is named as its file was, <sum>.<ext> (the SHA-256
-- in lower-case hex and the extension), and written once; kept_at is the
-- last time anybody kept the same bytes (a file's modification time), which
-- the orphan sweep compares with its grace period.
--
-- bytea, not a large object: a copy is at most [limits] max_photo_bytes
-- (a few MB), read and written whole, deleted with its row, and copied by
-- pg_dump with everything else. STORAGE EXTERNAL: photos are compressed
-- already, so TOAST keeps them out of line without trying to compress.
CREATE TABLE media (
	sum     text COLLATE "C" NOT NULL CHECK (sum ~ '^[0-9a-f]{64}$'),
	ext     text COLLATE "C" NOT NULL CHECK (ext ~ '^[0-9a-z]{1,8}$'),
	size    bigint NOT NULL,
	kept_at timestamptz NOT NULL,
	data    bytea NOT NULL,
	PRIMARY KEY (sum, ext)
);
ALTER TABLE media ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX media_kept_at ON media (kept_at);
