package flows

import (
	"context"
	"errors"
)

// WantsPhoto reports whether a photo from the person would be used now:
// they are registered and a dialogue step takes one (a report's
// description or photos, a rework reason, a suggestion, emergency
// details, a certificate's photo), or they are staff on site (a visit
// files photos under its step). Channels download a photo only then
// (bot.PhotoWanter): anyone else's photo is answered from its platform id
// alone and never fills the disk.
func (e *Engine) WantsPhoto(ctx context.Context, personID string) (bool, error) {
	want := false
	err := e.o.Store.View(ctx, func(tx Tx) error {
		want = false
		p, err := tx.Person(personID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || !p.Registered {
			return err
		}
		d, err := tx.Dialogue(personID)
		switch {
		case err == nil:
			want = photoStep(d)
			return nil
		case !errors.Is(err, ErrNotFound):
			return err
		case !p.Role.IsStaff():
			return nil
		}
		c := &call{e: e, tx: tx, me: p, now: e.o.Now().UTC()}
		t, err := c.activeVisit()
		want = t != nil
		return err
	})
	return want, err
}

// photoStep reports a dialogue step whose input takes a photo (the
// dialogue table's photo rule).
func photoStep(d *Dialogue) bool {
	k, ok := dialogues[d.Kind]
	return ok && k.photo != nil && k.photo(d)
}

// WantsFile reports whether a document from the person would be used now:
// they are registered and their dialogue takes files (the dialogue table's
// file handler, such as a stock spreadsheet's import). Channels download a
// document only then (bot.FileWanter).
func (e *Engine) WantsFile(ctx context.Context, personID string) (bool, error) {
	want := false
	err := e.o.Store.View(ctx, func(tx Tx) error {
		want = false
		p, err := tx.Person(personID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || !p.Registered {
			return err
		}
		d, err := tx.Dialogue(personID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		k, ok := dialogues[d.Kind]
		want = ok && k.file != nil
		return nil
	})
	return want, err
}
