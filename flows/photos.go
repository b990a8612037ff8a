package flows

// Photos per step: the SOP file says how many photos each step needs
// before the technician moves on (Step.Photos; a photo step at least
// one). A lead may waive them with /skip and a reason. A rework needs
// fresh ones (rework.go).

// needPhotos refuses to leave a step whose photos are not all there, nor
// waived by a lead.
func (c *call) needPhotos(t *Ticket, st Step) error {
	min := st.MinPhotos()
	n := len(t.Visit.Photos[st.ID])
	if n >= min || t.Visit.Skipped[st.ID] != "" {
		return nil
	}
	return Errorf(CodeInvalid, "err.photo_required", "step", st.Title[c.lang], "min", min, "n", n)
}

// photoLine is the step card's count of a step's required photos, for the
// steps that need some besides their own work ("" for the others; a photo
// step says it in its own words).
func (c *call) photoLine(t *Ticket, st Step, l Lang) string {
	min := st.MinPhotos()
	if min == 0 || st.Kind == StepPhoto {
		return ""
	}
	if r := t.Visit.Skipped[st.ID]; r != "" {
		return c.tl(l, "step.photos_skipped", "reason", r)
	}
	return c.tl(l, "step.photos_needed", "n", len(t.Visit.Photos[st.ID]), "min", min)
}

// redoFrom starts the steps from index i on afresh, because the visit goes
// back to them (a rework, a failed test): their photos and waivers were
// evidence of the round before and stay in the audit trail, but the new
// round needs its own, and its tests start again.
func (c *call) redoFrom(t *Ticket, i int) {
	v := t.Visit
	for _, st := range c.e.SOP().Steps[max(i, 0):] {
		delete(v.Photos, st.ID)
		delete(v.Skipped, st.ID)
		if st.Kind == StepTests {
			v.Tests = 0
		}
	}
}
