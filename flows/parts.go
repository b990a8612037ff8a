package flows

import (
	"math/bits"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Spare parts (SOP area 3: 原件配件管理 — purchase, storage, requisition,
// return, scrap). The stock is an append-only ledger of moves; levels are
// its projection, kept in the same transaction and rebuildable from it.
//
// Every move goes from one location to another. Stores are real locations
// (one or more, e.g. one per estate); SUPPLIER, SCRAP, ADJUST and
// JOB:<ticket> are virtual. Stores and jobs are "held" locations: they have
// a level that never goes negative. SUPPLIER, SCRAP and ADJUST are the
// outside world and have none. A move is never edited or deleted; a
// correction is a reversing move. Its posting time is the time it was
// recorded (no back-dating), so no later move is ever re-costed: a job
// keeps the cost its parts had when they were taken.
//
// Valuation is a moving average per part per store (what ERPNext does per
// item and warehouse): a move into a held location from outside brings its
// own unit cost; a move out of a held location takes its share of that
// location's value (value × qty / on hand, rounded down; the last unit takes
// what is left, so a level at zero is worth exactly zero). A single average
// per part across stores would let a store that bought cheap run to a
// negative value when it issues at the dearer store's price.

// Virtual locations of the stock ledger.
const (
	LocSupplier = "SUPPLIER"
	LocScrap    = "SCRAP"
	LocAdjust   = "ADJUST"
	locJob      = "JOB:"
)

// JobLocation is the virtual location holding a ticket's parts.
func JobLocation(ticketID string) string { return locJob + ticketID }

// JobOf returns the ticket of a JOB:<ticket> location.
func JobOf(loc string) (ticketID string, ok bool) {
	if strings.HasPrefix(loc, locJob) && len(loc) > len(locJob) {
		return loc[len(locJob):], true
	}
	return "", false
}

// IsHeldLocation reports whether loc has a level: a store or a job.
func IsHeldLocation(loc string) bool {
	switch loc {
	case LocSupplier, LocScrap, LocAdjust, "":
		return false
	}
	return true
}

// IsStoreLocation reports whether loc is a real store (not virtual).
func IsStoreLocation(loc string) bool {
	_, job := JobOf(loc)
	return IsHeldLocation(loc) && !job
}

// MoveKind is why stock moved. Kinds are stored; they never change meaning.
type MoveKind string

// Move kinds.
const (
	MoveReceive MoveKind = "receive" // SUPPLIER → store, a purchase delivery
	MoveIssue   MoveKind = "issue"   // store → JOB:<ticket>, a requisition
	MoveReturn  MoveKind = "return"  // JOB:<ticket> → store, unused parts back
	MoveScrap   MoveKind = "scrap"   // store → SCRAP (报废), approved by a lead
	MoveAdjust  MoveKind = "adjust"  // store ↔ ADJUST, a stocktake difference
	MoveReverse MoveKind = "reverse" // the exact opposite of an earlier move
)

// Limits on what a person may type; beyond them a quantity or a price is
// a typing mistake, not a purchase.
const (
	MaxStockQty   = 1_000_000  // base units in one move, or a minimum stock
	MaxPartCents  = 10_000_000 // ¥100,000 per unit
	maxPartCode   = 32
	maxPartName   = 80
	maxPartSpec   = 120
	maxPartUnit   = 10
	maxStoreID    = 32
	maxStoreName  = 40
	maxPartReason = 200
	maxSupplier   = 80
)

// Part is one catalog item.
type Part struct {
	// Code is the catalog key (upper case, e.g. "P-0001"); it never changes.
	Code string `json:"code"`
	Name string `json:"name"`
	Spec string `json:"spec,omitempty"`
	// Unit is the base unit every quantity of this part counts (个, 米, 卷).
	Unit string `json:"unit"`
	// UnitCost is the catalog's reference cost in fen: it values stock a
	// stocktake finds in a store that holds none (otherwise the store's
	// average applies). Receipts bring their own cost.
	UnitCost int64 `json:"unit_cost"`
	// SalePrice is the price per unit in fen on a paid job's quote.
	SalePrice int64 `json:"sale_price"`
	// Billable parts go on the resident's quote at SalePrice.
	Billable bool `json:"billable"`
	// MinStock is the minimum on hand in each of Stores; below it the
	// leads are told once.
	MinStock int64 `json:"min_stock"`
	// ReorderQty is the quantity a low-stock purchase button proposes.
	ReorderQty int64 `json:"reorder_qty,omitempty"`
	// Stores are the store ids where the part is kept.
	Stores []string `json:"stores"`
	// Retired parts are neither bought nor issued any more.
	Retired   bool      `json:"retired,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// KeptIn reports whether the part is kept in the store.
func (p *Part) KeptIn(store string) bool {
	for _, s := range p.Stores {
		if s == store {
			return true
		}
	}
	return false
}

// StockLocation is a real store (a store room, one per estate...).
type StockLocation struct {
	ID      string    `json:"id"` // lower case, e.g. "main", "estate-a"
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// StockMove is one row of the append-only stock ledger.
type StockMove struct {
	// Seq is the move's id: assigned by the store, increasing, never reused.
	Seq uint64 `json:"seq"`
	// PostedAt is when it was recorded; it never decreases along Seq.
	PostedAt time.Time `json:"posted_at"`
	Kind     MoveKind  `json:"kind"`
	Part     string    `json:"part"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	// Qty is in the part's base unit, always > 0 (the direction is From → To).
	Qty int64 `json:"qty"`
	// UnitCost is the cost per unit frozen at posting, in fen: the stated
	// cost for a move from outside (receipt, stock found in a count), the
	// source level's average for a move out of a held location.
	UnitCost int64 `json:"unit_cost"`
	// Value is the exact amount in fen the move carried (Qty × UnitCost for
	// a move from outside; the source level's share for any other).
	Value int64 `json:"value"`
	// Ref is what the move belongs to: a ticket, a purchase (PR-n), a scrap
	// request (SC-n) or a stocktake (ST-n).
	Ref    string `json:"ref,omitempty"`
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
	Photo  *Photo `json:"photo,omitempty"`
	// Reverses is the Seq of the move this one undoes (kind reverse), and
	// Of that move's kind, so reports count it in the right column.
	Reverses uint64   `json:"reverses,omitempty"`
	Of       MoveKind `json:"of,omitempty"`
	// Key is the idempotency key (the inbound update or callback id).
	Key string `json:"key,omitempty"`
}

// Ticket returns the ticket the move belongs to, if it touches a job.
func (m *StockMove) Ticket() (string, bool) {
	if t, ok := JobOf(m.To); ok {
		return t, true
	}
	return JobOf(m.From)
}

// ReportKind is the column the move counts in: its own kind, or for a
// reversal the kind it reverses.
func (m *StockMove) ReportKind() MoveKind {
	if m.Kind == MoveReverse {
		return m.Of
	}
	return m.Kind
}

// StockLevel is the projection of the ledger for one part in one held
// location (a store or a job).
type StockLevel struct {
	Part     string `json:"part"`
	Location string `json:"loc"`
	Qty      int64  `json:"qty"`
	Value    int64  `json:"value"`
}

// Avg is the average unit cost in fen, rounded to the nearest fen.
func (l StockLevel) Avg() int64 {
	if l.Qty <= 0 {
		return 0
	}
	return (l.Value + l.Qty/2) / l.Qty
}

// shareOf is the value qty units take out of the level: the proportional
// share, rounded down, or everything that is left for the last units.
func (l StockLevel) shareOf(qty int64) int64 {
	if qty >= l.Qty {
		return l.Value
	}
	if l.Value <= 0 || qty <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(l.Value), uint64(qty))
	q, _ := bits.Div64(hi, lo, uint64(l.Qty)) // qty < l.Qty, so the quotient fits
	return int64(q)
}

// ApplyStockMove is the projection: the levels a move leaves behind in the
// held locations it touches (one or two), given the levels before it.
// Stores and the rebuild both use it, so the live projection and the
// rebuilt one cannot differ. It refuses a move that would leave a held
// level negative, or at zero with value left: the rule functions check
// first and say why; this is the last line.
func ApplyStockMove(level func(part, loc string) (StockLevel, error), m StockMove) ([]StockLevel, error) {
	if m.Qty <= 0 || m.Value < 0 || m.From == m.To {
		return nil, Errorf(CodeInvalid, "parts.bad_move", "seq", m.Seq)
	}
	var out []StockLevel
	if IsHeldLocation(m.From) {
		l, err := level(m.Part, m.From)
		if err != nil {
			return nil, err
		}
		l.Part, l.Location = m.Part, m.From
		l.Qty -= m.Qty
		l.Value -= m.Value
		if l.Qty < 0 || l.Value < 0 || (l.Qty == 0 && l.Value != 0) {
			return nil, Errorf(CodeConflict, "parts.short", "part", m.Part, "store", m.From, "have", l.Qty+m.Qty, "want", m.Qty, "unit", "")
		}
		out = append(out, l)
	}
	if IsHeldLocation(m.To) {
		l, err := level(m.Part, m.To)
		if err != nil {
			return nil, err
		}
		l.Part, l.Location = m.Part, m.To
		l.Qty += m.Qty
		l.Value += m.Value
		out = append(out, l)
	}
	return out, nil
}

// PurchaseStatus is where a purchase request stands.
type PurchaseStatus string

// Purchase statuses.
const (
	PurchaseRequested PurchaseStatus = "requested" // waiting for a lead
	PurchaseApproved  PurchaseStatus = "approved"  // ordered, nothing arrived yet
	PurchaseRefused   PurchaseStatus = "refused"
	PurchasePartial   PurchaseStatus = "partial"  // some deliveries arrived
	PurchaseReceived  PurchaseStatus = "received" // everything arrived
	PurchaseClosed    PurchaseStatus = "closed"   // a lead closed it short
)

// Open reports whether more may still arrive (the quantity is on order).
func (s PurchaseStatus) Open() bool { return s == PurchaseApproved || s == PurchasePartial }

// PurchaseRequest is a request to buy a part for a store.
type PurchaseRequest struct {
	ID          string         `json:"id"` // PR-<n>
	Part        string         `json:"part"`
	Store       string         `json:"store"`
	Qty         int64          `json:"qty"`
	Why         string         `json:"why"`
	Status      PurchaseStatus `json:"status"`
	RequestedBy string         `json:"requested_by"`
	Requested   time.Time      `json:"requested"`
	DecidedBy   string         `json:"decided_by,omitempty"`
	Decided     *time.Time     `json:"decided,omitempty"`
	Note        string         `json:"note,omitempty"`
	Deliveries  []Delivery     `json:"deliveries,omitempty"`
	// Received is the quantity delivered and not reversed.
	Received int64     `json:"received"`
	Updated  time.Time `json:"updated"`
}

// OnOrder is the quantity still expected.
func (r *PurchaseRequest) OnOrder() int64 {
	if !r.Status.Open() || r.Received >= r.Qty {
		return 0
	}
	return r.Qty - r.Received
}

// Delivery is one arrival against a purchase request.
type Delivery struct {
	Qty      int64     `json:"qty"`
	Supplier string    `json:"supplier"`
	UnitCost int64     `json:"unit_cost"`
	Photo    Photo     `json:"photo"` // the invoice or delivery note
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	Move     uint64    `json:"move"`
	// Reversed is the reversing move's Seq when the receipt was undone.
	Reversed uint64 `json:"reversed,omitempty"`
}

// ScrapStatus is where a scrap request stands.
type ScrapStatus string

// Scrap statuses.
const (
	ScrapRequested ScrapStatus = "requested"
	ScrapApproved  ScrapStatus = "approved"
	ScrapRefused   ScrapStatus = "refused"
)

// ScrapRequest asks a lead to write parts off (报废), with a reason and a photo.
type ScrapRequest struct {
	ID          string      `json:"id"` // SC-<n>
	Part        string      `json:"part"`
	Store       string      `json:"store"`
	Qty         int64       `json:"qty"`
	Reason      string      `json:"reason"`
	Photo       Photo       `json:"photo"`
	Status      ScrapStatus `json:"status"`
	RequestedBy string      `json:"requested_by"`
	Requested   time.Time   `json:"requested"`
	DecidedBy   string      `json:"decided_by,omitempty"`
	Decided     *time.Time  `json:"decided,omitempty"`
	Note        string      `json:"note,omitempty"`
	Move        uint64      `json:"move,omitempty"`
}

// Stocktake is a lead's count of a store; each difference became an
// adjustment move.
type Stocktake struct {
	ID     string      `json:"id"` // ST-<n>
	Store  string      `json:"store"`
	By     string      `json:"by"`
	At     time.Time   `json:"at"`
	Reason string      `json:"reason"`
	Lines  []CountLine `json:"lines"`
}

// CountLine is one part counted: what the books said and what was there.
type CountLine struct {
	Part    string `json:"part"`
	Book    int64  `json:"book"`
	Counted int64  `json:"counted"`
	Move    uint64 `json:"move,omitempty"` // the adjustment, when they differed
}

// LowStockAlert is an open low-stock alert for a part in a store: raised
// once when the level falls below the minimum, cleared when it is back at
// or above it, so the leads are told once per shortage, not on every move.
type LowStockAlert struct {
	Part  string    `json:"part"`
	Store string    `json:"store"`
	Since time.Time `json:"since"`
	Qty   int64     `json:"qty"` // on hand when raised
	Min   int64     `json:"min"`
	SeqAt uint64    `json:"seq_at"` // the move that raised it
}

// PartsTx is what the spare-parts area needs from a transaction. Getters
// return ErrNotFound (wrapped or not) for missing records, except
// StockLevel, which returns a zero level.
type PartsTx interface {
	Part(code string) (*Part, error)
	PutPart(p *Part) error
	// EachPart calls fn for every part in code order.
	EachPart(fn func(*Part) error) error
	// FindParts returns parts whose code starts with query or whose name
	// or spec contains it (case-insensitive): exact code first, then code
	// prefixes, then names; at most limit (0: no limit).
	FindParts(query string, limit int) ([]*Part, error)

	StockLocation(id string) (*StockLocation, error)
	PutStockLocation(l *StockLocation) error
	// StockLocations lists the stores by id.
	StockLocations() ([]*StockLocation, error)

	// AppendStockMove posts a move: it assigns Seq, keeps PostedAt from
	// going below the previous move's (a clock stepped back posts at the
	// previous time, so the ledger's order is its time order), applies
	// ApplyStockMove to the levels and writes the indexes, all in this
	// transaction. It returns the move as stored.
	AppendStockMove(m StockMove) (StockMove, error)
	StockMove(seq uint64) (*StockMove, error)
	// StockMoveByKey finds the move posted under an idempotency key.
	StockMoveByKey(key string) (*StockMove, error)
	// StockMoveReversal returns the Seq of the move that reversed seq (0: none).
	StockMoveReversal(seq uint64) (uint64, error)
	// EachStockMove streams the ledger in Seq order from after+1.
	EachStockMove(after uint64, fn func(*StockMove) error) error
	// EachStockMoveBetween streams the moves posted in [from, to) in order.
	EachStockMoveBetween(from, to time.Time, fn func(*StockMove) error) error
	// EachStockMoveOfPart streams one part's moves in order.
	EachStockMoveOfPart(code string, fn func(*StockMove) error) error
	// StockMovesOfTicket lists the moves of a job in order.
	StockMovesOfTicket(ticketID string) ([]StockMove, error)

	// StockLevel is the level of a part in a held location (zero if none).
	StockLevel(part, loc string) (StockLevel, error)
	// StockLevels lists the levels of one location (a store or a job) by part.
	StockLevels(loc string) ([]StockLevel, error)
	// EachStockLevel streams every level by location, then part.
	EachStockLevel(fn func(StockLevel) error) error
	// ReplaceStockLevels drops every level and writes these (the rebuild).
	ReplaceStockLevels(levels []StockLevel) error

	PurchaseRequest(id string) (*PurchaseRequest, error)
	PutPurchaseRequest(r *PurchaseRequest) error
	// OpenPurchaseRequests lists requests waiting for a decision or a
	// delivery, oldest first.
	OpenPurchaseRequests() ([]*PurchaseRequest, error)
	ScrapRequest(id string) (*ScrapRequest, error)
	PutScrapRequest(r *ScrapRequest) error
	Stocktake(id string) (*Stocktake, error)
	PutStocktake(s *Stocktake) error

	LowStockAlert(part, store string) (*LowStockAlert, error)
	PutLowStockAlert(a LowStockAlert) error
	DeleteLowStockAlert(part, store string) error
	// LowStockAlerts lists the open alerts by part, then store.
	LowStockAlerts() ([]LowStockAlert, error)

	// NextSeq and AppendTicketEvent are Tx's own: a purchase, scrap and
	// stocktake get their numbers from NextSeq, and a job's moves go on the
	// ticket's audit trail.
	NextSeq(name string) (int, error)
	AppendTicketEvent(ticketID string, ev TicketEvent) error
}

// PartsAction is a spare-parts operation; PartsRoles says who may do it.
type PartsAction string

// Spare-parts operations.
const (
	PartsView            PartsAction = "view"
	PartsEditCatalog     PartsAction = "catalog"
	PartsRequestPurchase PartsAction = "purchase_request"
	PartsDecidePurchase  PartsAction = "purchase_decide"
	PartsReceive         PartsAction = "receive"
	PartsIssue           PartsAction = "issue"
	PartsApproveIssue    PartsAction = "issue_approve" // a requisition over the limit
	PartsReturn          PartsAction = "return"
	PartsRequestScrap    PartsAction = "scrap_request"
	PartsDecideScrap     PartsAction = "scrap_decide"
	PartsStocktake       PartsAction = "stocktake"
	PartsReverse         PartsAction = "reverse"
)

// PartsRoles is the spare-parts permission table: every rule function
// checks its row before anything changes.
var PartsRoles = map[PartsAction][]Role{
	PartsView:            {RoleTechnician, RoleLead, RoleDispatcher, RoleAdmin},
	PartsEditCatalog:     leads,
	PartsRequestPurchase: staff,
	PartsDecidePurchase:  leads,
	PartsReceive:         staff,
	PartsIssue:           staff,
	PartsApproveIssue:    leads,
	PartsReturn:          staff,
	PartsRequestScrap:    staff,
	PartsDecideScrap:     leads,
	PartsStocktake:       leads,
	PartsReverse:         leads,
}

// AuthorizeParts checks the PartsRoles row for a person.
func AuthorizeParts(a PartsAction, p *Person) error {
	roles, ok := PartsRoles[a]
	if !ok {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	if p == nil || !p.Registered {
		return Errorf(CodeForbidden, "err.not_registered")
	}
	if !hasRole(roles, p.Role) {
		return Errorf(CodeForbidden, "err.role")
	}
	return nil
}

// FieldError is a validation failure of one field of a record: the field's
// name (Part's JSON name) and a user-safe error.
type FieldError struct {
	Field string
	Err   *Error
}

// NormalizePartCode trims a typed code and upper-cases it.
func NormalizePartCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// Validate checks a catalog item's own fields (not whether its stores
// exist: SavePart checks that against the store). It reports every bad
// field, so an import can name them all.
func (p *Part) Validate() []FieldError {
	var out []FieldError
	bad := func(field, key string, args ...any) {
		out = append(out, FieldError{Field: field, Err: Errorf(CodeInvalid, key, args...)})
	}
	if !validCode(p.Code) {
		bad("code", "parts.bad_code", "max", maxPartCode)
	}
	if !validText(p.Name, 1, maxPartName) {
		bad("name", "parts.bad_name", "max", maxPartName)
	}
	if !validText(p.Spec, 0, maxPartSpec) {
		bad("spec", "parts.bad_spec", "max", maxPartSpec)
	}
	if !validText(p.Unit, 1, maxPartUnit) {
		bad("unit", "parts.bad_unit", "max", maxPartUnit)
	}
	if p.UnitCost < 0 || p.UnitCost > MaxPartCents {
		bad("unit_cost", "parts.bad_cost", "max", Money(MaxPartCents))
	}
	if p.SalePrice < 0 || p.SalePrice > MaxPartCents {
		bad("sale_price", "parts.bad_price", "max", Money(MaxPartCents))
	} else if p.Billable && p.SalePrice == 0 {
		bad("sale_price", "parts.billable_no_price")
	}
	if p.MinStock < 0 || p.MinStock > MaxStockQty {
		bad("min_stock", "parts.bad_min", "max", MaxStockQty)
	}
	if p.ReorderQty < 0 || p.ReorderQty > MaxStockQty {
		bad("reorder_qty", "parts.bad_reorder", "max", MaxStockQty)
	}
	if len(p.Stores) == 0 {
		bad("stores", "parts.no_store")
	}
	seen := map[string]bool{}
	for _, s := range p.Stores {
		if !validStoreID(s) || seen[s] {
			bad("stores", "parts.bad_store_list", "store", s)
			break
		}
		seen[s] = true
	}
	return out
}

// Validate checks a store's fields.
func (l *StockLocation) Validate() []FieldError {
	var out []FieldError
	if !validStoreID(l.ID) {
		out = append(out, FieldError{"id", Errorf(CodeInvalid, "parts.bad_store_id", "max", maxStoreID)})
	}
	if !validText(l.Name, 1, maxStoreName) {
		out = append(out, FieldError{"name", Errorf(CodeInvalid, "parts.bad_store_name", "max", maxStoreName)})
	}
	return out
}

func validCode(s string) bool {
	if s == "" || len(s) > maxPartCode || s != NormalizePartCode(s) {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// validStoreID: lower case, so a store can never be taken for a virtual
// location (SUPPLIER, JOB:...).
func validStoreID(s string) bool {
	if s == "" || len(s) > maxStoreID {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && (r == '-' || r == '_')) {
			return false
		}
	}
	return true
}

func validText(s string, min, max int) bool {
	n := utf8.RuneCountInString(s)
	if n < min || n > max || strings.TrimSpace(s) != s || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
