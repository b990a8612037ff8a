package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repairbot/repairbot/media"
)

// Blobs keeps the media store's copies in the database's media table
// (migration 0005), so every replica of the bot reads the photos and
// documents any one of them received. It implements media.Blobs; get one
// with Store.Blobs. Each call is one statement in a transaction of its
// own, outside the engine's: a copy is kept before the event that refers
// to it commits, as a file is written before, and the sweep removes what
// no record came to refer to.
type Blobs struct{ s *Store }

var _ media.Blobs = Blobs{}

// Blobs returns the store's media backend.
func (s *Store) Blobs() Blobs { return Blobs{s: s} }

// PutBlob implements media.Blobs: the bytes travel only when the copy is
// not kept yet; either way its kept time moves to at, never back.
func (b Blobs) PutBlob(ctx context.Context, sum, ext string, data []byte, at time.Time) error {
	if b.s.closed.Load() {
		return ErrClosed
	}
	tag, err := b.s.pool.Exec(ctx, `UPDATE media SET kept_at = GREATEST(kept_at, $3) WHERE sum = $1 AND ext = $2`, sum, ext, at)
	if err != nil {
		return fmt.Errorf("store/postgres: keep %s.%s: %w", sum, ext, err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	// Two replicas keeping the same new bytes at once: one inserts, the
	// other's conflict only moves the time.
	_, err = b.s.pool.Exec(ctx, `INSERT INTO media (sum, ext, size, kept_at, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (sum, ext) DO UPDATE SET kept_at = GREATEST(media.kept_at, EXCLUDED.kept_at)`,
		sum, ext, int64(len(data)), at, data)
	if err != nil {
		return fmt.Errorf("store/postgres: keep %s.%s: %w", sum, ext, err)
	}
	return nil
}

// OpenBlob implements media.Blobs; the copy is read whole.
func (b Blobs) OpenBlob(ctx context.Context, sum, ext string) (io.ReadCloser, error) {
	if b.s.closed.Load() {
		return nil, ErrClosed
	}
	var data []byte
	err := b.s.pool.QueryRow(ctx, `SELECT data FROM media WHERE sum = $1 AND ext = $2`, sum, ext).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store/postgres: media %s.%s: %w", sum, ext, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("store/postgres: media %s.%s: %w", sum, ext, err)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// OlderBlobs implements media.Blobs, oldest first, without the bytes.
func (b Blobs) OlderBlobs(ctx context.Context, before time.Time) ([]media.Kept, error) {
	if b.s.closed.Load() {
		return nil, ErrClosed
	}
	rows, err := b.s.pool.Query(ctx, `SELECT sum, ext, size, kept_at FROM media WHERE kept_at < $1 ORDER BY kept_at, sum, ext`, before)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: list media: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (media.Kept, error) {
		var k media.Kept
		var ext string
		if err := r.Scan(&k.Sum, &ext, &k.Size, &k.Modified); err != nil {
			return k, err
		}
		k.Rel = media.Rel(k.Sum, ext)
		return k, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store/postgres: list media: %w", err)
	}
	return out, nil
}

// DeleteBlob implements media.Blobs. The age is checked by the DELETE
// itself: a PutBlob that committed first leaves the row young, and one
// that comes after inserts it again.
func (b Blobs) DeleteBlob(ctx context.Context, sum, ext string, before time.Time) (bool, error) {
	if b.s.closed.Load() {
		return false, ErrClosed
	}
	tag, err := b.s.pool.Exec(ctx, `DELETE FROM media WHERE sum = $1 AND ext = $2 AND kept_at < $3`, sum, ext, before)
	if err != nil {
		return false, fmt.Errorf("store/postgres: delete media %s.%s: %w", sum, ext, err)
	}
	return tag.RowsAffected() > 0, nil
}
