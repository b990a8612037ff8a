package flows

import (
	"context"
	"errors"
)

// SetPlatformName writes the display name a channel found on the platform
// (WeCom's address book) into a person's profile, but only while the
// profile still carries placeholder (what the channel gave as the name
// when the person joined, their platform id): a name the person or a lead
// gave is never overwritten. Channels look names up after the event that
// created the profile has committed, never before (bot.NameSetter).
func (e *Engine) SetPlatformName(ctx context.Context, personID, placeholder, name string) (bool, error) {
	name = cleanText(name, e.o.MaxNameLen)
	if name == "" || name == placeholder {
		return false, nil
	}
	changed := false
	err := e.o.Store.Update(ctx, func(tx Tx) error {
		changed = false
		p, err := tx.Person(personID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || p.Name != placeholder {
			return err
		}
		p.Name, p.Updated = name, e.o.Now().UTC()
		changed = true
		return tx.PutPerson(p)
	})
	return changed, err
}
