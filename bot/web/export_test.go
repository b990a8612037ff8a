package web

// OfficeActions lists the console actions the management pages post, for
// the external tests (every console action that names no ticket is a
// page's form).
func OfficeActions() []string {
	out := make([]string, 0, len(officeFields))
	for a := range officeFields {
		out = append(out, a)
	}
	return out
}
