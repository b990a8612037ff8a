package flows

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The spare-parts rules. Each function checks its PartsRoles row, re-reads
// everything it decides on from the transaction, posts its moves through
// AppendStockMove (levels, indexes and the ticket's audit trail in the same
// transaction) and says what happened in a StockResult, so a chat handler
// only parses the tap or the text, calls one function and renders the
// result. User mistakes come back as *Error with a parts.* catalog key.

// Posting is who acts, when (the event's time: never back-dated), and the
// idempotency key of the inbound update or callback ("" for none).
type Posting struct {
	By  *Person
	At  time.Time
	Key string
}

func (p Posting) actor() string {
	if p.By == nil {
		return "system"
	}
	return p.By.ID
}

// StockResult is what a posting did, for the caller's messages.
type StockResult struct {
	// Moves are the moves posted, or found when Replayed.
	Moves []StockMove
	// Levels are the store levels after the posting, one per store touched.
	Levels []StockLevel
	// Alerts were raised by this posting: tell the leads (once per shortage).
	Alerts []LowStockAlert
	// Recovered alerts were cleared: the level is back at or above the minimum.
	Recovered []LowStockAlert
	// Replayed means the idempotency key had been posted already; nothing changed.
	Replayed bool
}

// PartsPolicy is the configurable part of the rules.
type PartsPolicy struct {
	// ApprovalOver is the value in fen above which a requisition needs a
	// lead's approval (0: never).
	ApprovalOver int64
}

// ---- catalog ----

// PartProblem is one reason a catalog item cannot be saved: which item of
// the batch (Index), which field, and why.
type PartProblem struct {
	Index int
	Field string
	Err   *Error
}

// SavePart creates or edits one catalog item (a lead, in chat).
func SavePart(tx PartsTx, p Posting, part Part) (*Part, StockResult, error) {
	probs, res, err := ImportParts(tx, p, []Part{part})
	if err != nil {
		return nil, res, err
	}
	if len(probs) > 0 {
		return nil, res, probs[0].Err
	}
	saved, err := tx.Part(NormalizePartCode(part.Code))
	return saved, res, err
}

// ImportParts creates or edits catalog items as one batch: every problem of
// every item is reported and, if there is any, nothing is written. An
// edit clears the low-stock alerts that no longer apply (a lower minimum, a
// store given up, a retired part); it raises none: alerts come from moves,
// so importing a catalog of empty stores does not page the leads
// thousands of times.
func ImportParts(tx PartsTx, p Posting, parts []Part) ([]PartProblem, StockResult, error) {
	var res StockResult
	if err := AuthorizeParts(PartsEditCatalog, p.By); err != nil {
		return nil, res, err
	}
	probs, olds, err := checkParts(tx, parts)
	if err != nil || len(probs) > 0 {
		return probs, res, err
	}
	at := p.At.UTC()
	for i := range parts {
		np := parts[i]
		np.Created, np.Updated, np.UpdatedBy = at, at, p.actor()
		if olds[i] != nil {
			np.Created = olds[i].Created
		}
		np.Stores = append([]string(nil), np.Stores...)
		if err := tx.PutPart(&np); err != nil {
			return nil, res, err
		}
		if olds[i] == nil {
			continue
		}
		for _, s := range olds[i].Stores {
			l, err := tx.StockLevel(np.Code, s)
			if err != nil {
				return nil, res, err
			}
			l.Part, l.Location = np.Code, s
			if err := clearLow(tx, &np, l, &res); err != nil {
				return nil, res, err
			}
		}
	}
	return nil, res, nil
}

// CheckParts reports every problem a batch of catalog items has, against
// the store (unknown stores, a store given up while it holds stock,
// duplicate codes), writing nothing. Codes are normalised in place.
func CheckParts(tx PartsTx, parts []Part) ([]PartProblem, error) {
	probs, _, err := checkParts(tx, parts)
	return probs, err
}

func checkParts(tx PartsTx, parts []Part) ([]PartProblem, []*Part, error) {
	stores, err := storeSet(tx)
	if err != nil {
		return nil, nil, err
	}
	var probs []PartProblem
	seen := map[string]int{}
	olds := make([]*Part, len(parts))
	for i := range parts {
		np := &parts[i]
		np.Code = NormalizePartCode(np.Code)
		for _, fe := range np.Validate() {
			probs = append(probs, PartProblem{Index: i, Field: fe.Field, Err: fe.Err})
		}
		if j, dup := seen[np.Code]; dup && np.Code != "" {
			probs = append(probs, PartProblem{Index: i, Field: "code", Err: Errorf(CodeInvalid, "parts.dup_code", "code", np.Code, "n", j+1)})
		}
		seen[np.Code] = i
		for _, s := range np.Stores {
			if validStoreID(s) && !stores[s] {
				probs = append(probs, PartProblem{Index: i, Field: "stores", Err: Errorf(CodeNotFound, "parts.unknown_store", "store", s)})
			}
		}
		old, err := tx.Part(np.Code)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, nil, err
		default:
			olds[i] = old
			for _, s := range old.Stores {
				if np.KeptIn(s) {
					continue
				}
				l, err := tx.StockLevel(old.Code, s)
				if err != nil {
					return nil, nil, err
				}
				if l.Qty > 0 {
					probs = append(probs, PartProblem{Index: i, Field: "stores", Err: Errorf(CodeConflict, "parts.store_has_stock", "store", s, "qty", l.Qty, "unit", old.Unit)})
				}
			}
		}
	}
	return probs, olds, nil
}

// SaveStockLocation creates a store or renames one.
func SaveStockLocation(tx PartsTx, p Posting, loc StockLocation) (*StockLocation, error) {
	if err := AuthorizeParts(PartsEditCatalog, p.By); err != nil {
		return nil, err
	}
	loc.ID = strings.TrimSpace(loc.ID)
	loc.Name = strings.TrimSpace(loc.Name)
	if fes := loc.Validate(); len(fes) > 0 {
		return nil, fes[0].Err
	}
	loc.Created = p.At.UTC()
	if old, err := tx.StockLocation(loc.ID); err == nil {
		loc.Created = old.Created
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	return &loc, tx.PutStockLocation(&loc)
}

func storeSet(tx PartsTx) (map[string]bool, error) {
	ls, err := tx.StockLocations()
	if err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(ls))
	for _, l := range ls {
		m[l.ID] = true
	}
	return m, nil
}

// ---- purchases ----

// PurchaseInput is a purchase request as typed.
type PurchaseInput struct {
	Part  string
	Store string
	Qty   int64
	Why   string
}

// RequestPurchase records a request to buy (anyone on staff); a lead decides.
func RequestPurchase(tx PartsTx, p Posting, in PurchaseInput) (*PurchaseRequest, error) {
	if err := AuthorizeParts(PartsRequestPurchase, p.By); err != nil {
		return nil, err
	}
	part, err := livePart(tx, in.Part)
	if err != nil {
		return nil, err
	}
	if err := keptIn(tx, part, in.Store); err != nil {
		return nil, err
	}
	if err := checkQty(in.Qty); err != nil {
		return nil, err
	}
	why, err := reasonText(in.Why)
	if err != nil {
		return nil, err
	}
	n, err := tx.NextSeq("parts-purchase")
	if err != nil {
		return nil, err
	}
	at := p.At.UTC()
	r := &PurchaseRequest{ID: "PR-" + strconv.Itoa(n), Part: part.Code, Store: in.Store, Qty: in.Qty, Why: why,
		Status: PurchaseRequested, RequestedBy: p.actor(), Requested: at, Updated: at}
	return r, tx.PutPurchaseRequest(r)
}

// DecidePurchase approves or refuses a request (a lead).
func DecidePurchase(tx PartsTx, p Posting, id string, approve bool, note string) (*PurchaseRequest, error) {
	if err := AuthorizeParts(PartsDecidePurchase, p.By); err != nil {
		return nil, err
	}
	r, err := purchase(tx, id)
	if err != nil {
		return nil, err
	}
	if r.Status != PurchaseRequested {
		return nil, Errorf(CodeConflict, "parts.purchase_decided", "id", r.ID, "status", string(r.Status))
	}
	r.Note = cleanText(note, maxPartReason)
	at := p.At.UTC()
	r.Status, r.DecidedBy, r.Decided, r.Updated = PurchaseRefused, p.actor(), &at, at
	if approve {
		r.Status = PurchaseApproved
	}
	return r, tx.PutPurchaseRequest(r)
}

// ClosePurchase stops waiting for the rest of an order (a lead).
func ClosePurchase(tx PartsTx, p Posting, id, note string) (*PurchaseRequest, error) {
	if err := AuthorizeParts(PartsDecidePurchase, p.By); err != nil {
		return nil, err
	}
	r, err := purchase(tx, id)
	if err != nil {
		return nil, err
	}
	if !r.Status.Open() {
		return nil, Errorf(CodeConflict, "parts.purchase_not_open", "id", r.ID, "status", string(r.Status))
	}
	r.Status, r.Updated = PurchaseClosed, p.At.UTC()
	if n := cleanText(note, maxPartReason); n != "" {
		r.Note = n
	}
	return r, tx.PutPurchaseRequest(r)
}

// DeliveryInput is what arrived: quantity, supplier, unit cost, and a
// photo of the invoice or delivery note.
type DeliveryInput struct {
	Qty      int64
	Supplier string
	UnitCost int64
	Photo    Photo
}

// ReceiveDelivery records an arrival against an approved purchase; stock
// rises only here. A purchase may arrive in several deliveries, never
// more than was approved.
func ReceiveDelivery(tx PartsTx, p Posting, purchaseID string, in DeliveryInput) (*PurchaseRequest, StockResult, error) {
	var res StockResult
	if err := AuthorizeParts(PartsReceive, p.By); err != nil {
		return nil, res, err
	}
	if done, err := replayed(tx, p.Key, &res); err != nil || done {
		r, _ := tx.PurchaseRequest(purchaseID)
		return r, res, err
	}
	r, err := purchase(tx, purchaseID)
	if err != nil {
		return nil, res, err
	}
	if !r.Status.Open() {
		return nil, res, Errorf(CodeConflict, "parts.purchase_not_open", "id", r.ID, "status", string(r.Status))
	}
	if err := checkQty(in.Qty); err != nil {
		return nil, res, err
	}
	if left := r.Qty - r.Received; in.Qty > left {
		return nil, res, Errorf(CodeInvalid, "parts.receive_over", "id", r.ID, "left", left)
	}
	if in.UnitCost < 0 || in.UnitCost > MaxPartCents {
		return nil, res, Errorf(CodeInvalid, "parts.bad_cost", "max", Money(MaxPartCents))
	}
	supplier := cleanText(in.Supplier, maxSupplier)
	if supplier == "" {
		return nil, res, Errorf(CodeInvalid, "parts.supplier_required")
	}
	if in.Photo.FileID == "" && in.Photo.SHA256 == "" { // a platform's file, or the console's kept copy
		return nil, res, Errorf(CodeInvalid, "parts.photo_required")
	}
	part, err := partByCode(tx, r.Part)
	if err != nil {
		return nil, res, err
	}
	ph := in.Photo
	m, err := postMove(tx, p, part, StockMove{Kind: MoveReceive, Part: part.Code, From: LocSupplier, To: r.Store, Qty: in.Qty,
		UnitCost: in.UnitCost, Value: in.Qty * in.UnitCost, Ref: r.ID, Reason: supplier, Photo: &ph, Key: p.Key}, &res)
	if err != nil {
		return nil, res, err
	}
	r.Deliveries = append(r.Deliveries, Delivery{Qty: in.Qty, Supplier: supplier, UnitCost: in.UnitCost, Photo: ph,
		At: m.PostedAt, By: m.Actor, Move: m.Seq})
	r.Received += in.Qty
	r.Status, r.Updated = receivedStatus(r), m.PostedAt
	return r, res, tx.PutPurchaseRequest(r)
}

func receivedStatus(r *PurchaseRequest) PurchaseStatus {
	switch {
	case r.Status == PurchaseClosed:
		return PurchaseClosed
	case r.Received >= r.Qty:
		return PurchaseReceived
	case r.Received > 0:
		return PurchasePartial
	}
	return PurchaseApproved
}

func purchase(tx PartsTx, id string) (*PurchaseRequest, error) {
	r, err := tx.PurchaseRequest(strings.ToUpper(strings.TrimSpace(id)))
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "parts.unknown_purchase", "id", id)
	}
	return r, err
}

// ---- requisition and return ----

// IssueInput is a requisition for a job.
type IssueInput struct {
	Part   string
	Store  string
	Ticket string
	Qty    int64
	// ApprovedBy is the lead who approved a requisition over the policy's
	// value; their role is checked again here.
	ApprovedBy *Person
}

// Issue takes parts from a store for a job. Stock never goes negative:
// of two technicians taking the last unit, the second is told how many
// are left (parts.short). The caller has authorised the ticket action (the
// technician is the assignee, the ticket is on the quote or repair step).
func Issue(tx PartsTx, p Posting, pol PartsPolicy, in IssueInput) (StockResult, error) {
	var res StockResult
	if err := AuthorizeParts(PartsIssue, p.By); err != nil {
		return res, err
	}
	if done, err := replayed(tx, p.Key, &res); err != nil || done {
		return res, err
	}
	part, err := livePart(tx, in.Part)
	if err != nil {
		return res, err
	}
	if err := keptIn(tx, part, in.Store); err != nil {
		return res, err
	}
	if in.Ticket == "" {
		return res, Errorf(CodeInvalid, "parts.no_ticket")
	}
	if err := checkQty(in.Qty); err != nil {
		return res, err
	}
	l, err := tx.StockLevel(part.Code, in.Store)
	if err != nil {
		return res, err
	}
	if l.Qty < in.Qty {
		return res, Errorf(CodeConflict, "parts.short", "part", part.Code, "name", part.Name, "store", in.Store, "have", l.Qty, "want", in.Qty, "unit", part.Unit)
	}
	value := l.shareOf(in.Qty)
	if pol.ApprovalOver > 0 && value > pol.ApprovalOver && AuthorizeParts(PartsApproveIssue, p.By) != nil {
		if in.ApprovedBy == nil || AuthorizeParts(PartsApproveIssue, in.ApprovedBy) != nil {
			return res, Errorf(CodeForbidden, "parts.needs_approval", "part", part.Code, "value", Money(value), "limit", Money(pol.ApprovalOver))
		}
	}
	reason := ""
	if in.ApprovedBy != nil {
		reason = "approved by " + in.ApprovedBy.ID
	}
	_, err = postMove(tx, p, part, StockMove{Kind: MoveIssue, Part: part.Code, From: in.Store, To: JobLocation(in.Ticket), Qty: in.Qty,
		UnitCost: l.Avg(), Value: value, Ref: in.Ticket, Reason: reason, Key: p.Key}, &res)
	return res, err
}

// ReturnInput is unused parts going back from a job to a store.
type ReturnInput struct {
	Part   string
	Store  string
	Ticket string
	Qty    int64
	Reason string
}

// ReturnToStock puts unused parts of a job back in a store, at the cost
// they left with (the job's own average), never more than the job holds.
func ReturnToStock(tx PartsTx, p Posting, in ReturnInput) (StockResult, error) {
	var res StockResult
	if err := AuthorizeParts(PartsReturn, p.By); err != nil {
		return res, err
	}
	if done, err := replayed(tx, p.Key, &res); err != nil || done {
		return res, err
	}
	part, err := partByCode(tx, in.Part)
	if err != nil {
		return res, err
	}
	if err := keptIn(tx, part, in.Store); err != nil {
		return res, err
	}
	if err := checkQty(in.Qty); err != nil {
		return res, err
	}
	job, err := tx.StockLevel(part.Code, JobLocation(in.Ticket))
	if err != nil {
		return res, err
	}
	if job.Qty < in.Qty {
		return res, Errorf(CodeConflict, "parts.job_short", "part", part.Code, "ticket", in.Ticket, "have", job.Qty, "unit", part.Unit)
	}
	_, err = postMove(tx, p, part, StockMove{Kind: MoveReturn, Part: part.Code, From: JobLocation(in.Ticket), To: in.Store, Qty: in.Qty,
		UnitCost: job.Avg(), Value: job.shareOf(in.Qty), Ref: in.Ticket, Reason: cleanText(in.Reason, maxPartReason), Key: p.Key}, &res)
	return res, err
}

// ReturnJobParts gives back everything a job holds, each part to the
// stores it came from, at the value it left them with (a refused quote, an
// abandoned visit). It has no PartsRoles row: it runs as a consequence of a
// ticket action the caller authorised, whoever (a resident refusing the
// quote) triggered it.
func ReturnJobParts(tx PartsTx, p Posting, ticketID, reason string) (StockResult, error) {
	var res StockResult
	held, err := tx.StockLevels(JobLocation(ticketID))
	if err != nil {
		return res, err
	}
	moves, err := tx.StockMovesOfTicket(ticketID)
	if err != nil {
		return res, err
	}
	from := jobSources(moves)
	reason = cleanText(reason, maxPartReason)
	for _, h := range held {
		part, err := partByCode(tx, h.Part)
		if err != nil {
			return res, err
		}
		left := h.Qty
		for _, src := range from[h.Part] {
			if left == 0 {
				break
			}
			if !part.KeptIn(src.store) {
				continue
			}
			q := min(src.qty, left)
			if err := returnPart(tx, p, part, ticketID, src.store, q, src.value, q == src.qty, reason, &res); err != nil {
				return res, err
			}
			left -= q
		}
		if left > 0 {
			if err := returnPart(tx, p, part, ticketID, part.Stores[0], left, 0, false, reason, &res); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// returnPart posts one automatic return. When all a store gave the job goes
// back (whole), it carries the value it left with, bounded by what the job
// holds; otherwise the job's average share. The job's last units take
// whatever value it has left.
func returnPart(tx PartsTx, p Posting, part *Part, ticketID, store string, qty, issued int64, whole bool, reason string, res *StockResult) error {
	key := ""
	if p.Key != "" {
		key = p.Key + "/" + part.Code + "/" + store
		if m, err := tx.StockMoveByKey(key); err == nil {
			res.Moves, res.Replayed = append(res.Moves, *m), true
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	job, err := tx.StockLevel(part.Code, JobLocation(ticketID))
	if err != nil {
		return err
	}
	value := job.shareOf(qty)
	if whole && qty < job.Qty {
		value = max(0, min(issued, job.Value))
	}
	_, err = postMove(tx, p, part, StockMove{Kind: MoveReturn, Part: part.Code, From: JobLocation(ticketID), To: store, Qty: qty,
		UnitCost: job.Avg(), Value: value, Ref: ticketID, Reason: reason, Key: key}, res)
	return err
}

type jobSource struct {
	store      string
	qty, value int64
}

// jobSources nets a job's moves per part and store: issued from the store
// minus given back to it (quantity and value), largest quantity first.
func jobSources(moves []StockMove) map[string][]jobSource {
	type amount struct{ qty, value int64 }
	net := map[string]map[string]amount{}
	for _, m := range moves {
		store, sign := m.From, int64(1)
		if _, job := JobOf(m.To); !job {
			store, sign = m.To, -1
		}
		if !IsStoreLocation(store) {
			continue
		}
		if net[m.Part] == nil {
			net[m.Part] = map[string]amount{}
		}
		a := net[m.Part][store]
		a.qty += sign * m.Qty
		a.value += sign * m.Value
		net[m.Part][store] = a
	}
	out := map[string][]jobSource{}
	for part, byStore := range net {
		for s, a := range byStore {
			if a.qty > 0 {
				out[part] = append(out[part], jobSource{s, a.qty, a.value})
			}
		}
		sort.Slice(out[part], func(i, j int) bool {
			a, b := out[part][i], out[part][j]
			return a.qty > b.qty || a.qty == b.qty && a.store < b.store
		})
	}
	return out
}

// JobPart is one part a job holds: for the quote, the work order and the
// job's cost.
type JobPart struct {
	Part *Part
	Qty  int64
	// Cost is what the parts cost the company (their value on the ledger).
	Cost int64
	// Sale is what a paid job charges for them (billable parts only).
	Sale int64
}

// JobParts lists the parts a job holds, by code.
func JobParts(tx PartsTx, ticketID string) ([]JobPart, error) {
	held, err := tx.StockLevels(JobLocation(ticketID))
	if err != nil {
		return nil, err
	}
	out := make([]JobPart, 0, len(held))
	for _, h := range held {
		if h.Qty == 0 {
			continue
		}
		part, err := partByCode(tx, h.Part)
		if err != nil {
			return nil, err
		}
		jp := JobPart{Part: part, Qty: h.Qty, Cost: h.Value}
		if part.Billable {
			jp.Sale = h.Qty * part.SalePrice
		}
		out = append(out, jp)
	}
	return out, nil
}

// ---- scrap ----

// ScrapInput is a request to write parts off.
type ScrapInput struct {
	Part   string
	Store  string
	Qty    int64
	Reason string
	Photo  Photo
}

// RequestScrap records a request to scrap parts (报废), with a reason and a
// photo; stock moves only when a lead approves.
func RequestScrap(tx PartsTx, p Posting, in ScrapInput) (*ScrapRequest, error) {
	if err := AuthorizeParts(PartsRequestScrap, p.By); err != nil {
		return nil, err
	}
	part, err := partByCode(tx, in.Part)
	if err != nil {
		return nil, err
	}
	if err := keptIn(tx, part, in.Store); err != nil {
		return nil, err
	}
	if err := checkQty(in.Qty); err != nil {
		return nil, err
	}
	reason, err := reasonText(in.Reason)
	if err != nil {
		return nil, err
	}
	if in.Photo.FileID == "" {
		return nil, Errorf(CodeInvalid, "parts.photo_required")
	}
	l, err := tx.StockLevel(part.Code, in.Store)
	if err != nil {
		return nil, err
	}
	if l.Qty < in.Qty {
		return nil, Errorf(CodeConflict, "parts.short", "part", part.Code, "name", part.Name, "store", in.Store, "have", l.Qty, "want", in.Qty, "unit", part.Unit)
	}
	n, err := tx.NextSeq("parts-scrap")
	if err != nil {
		return nil, err
	}
	r := &ScrapRequest{ID: "SC-" + strconv.Itoa(n), Part: part.Code, Store: in.Store, Qty: in.Qty, Reason: reason, Photo: in.Photo,
		Status: ScrapRequested, RequestedBy: p.actor(), Requested: p.At.UTC()}
	return r, tx.PutScrapRequest(r)
}

// DecideScrap approves (posting the scrap move) or refuses a scrap request.
func DecideScrap(tx PartsTx, p Posting, id string, approve bool, note string) (*ScrapRequest, StockResult, error) {
	var res StockResult
	if err := AuthorizeParts(PartsDecideScrap, p.By); err != nil {
		return nil, res, err
	}
	r, err := tx.ScrapRequest(strings.ToUpper(strings.TrimSpace(id)))
	if errors.Is(err, ErrNotFound) {
		return nil, res, Errorf(CodeNotFound, "parts.unknown_scrap", "id", id)
	} else if err != nil {
		return nil, res, err
	}
	if r.Status != ScrapRequested {
		return nil, res, Errorf(CodeConflict, "parts.scrap_decided", "id", r.ID, "status", string(r.Status))
	}
	at := p.At.UTC()
	r.DecidedBy, r.Decided, r.Note = p.actor(), &at, cleanText(note, maxPartReason)
	if !approve {
		r.Status = ScrapRefused
		return r, res, tx.PutScrapRequest(r)
	}
	part, err := partByCode(tx, r.Part)
	if err != nil {
		return nil, res, err
	}
	l, err := tx.StockLevel(part.Code, r.Store)
	if err != nil {
		return nil, res, err
	}
	if l.Qty < r.Qty {
		return nil, res, Errorf(CodeConflict, "parts.short", "part", part.Code, "name", part.Name, "store", r.Store, "have", l.Qty, "want", r.Qty, "unit", part.Unit)
	}
	ph := r.Photo
	m, err := postMove(tx, p, part, StockMove{Kind: MoveScrap, Part: part.Code, From: r.Store, To: LocScrap, Qty: r.Qty,
		UnitCost: l.Avg(), Value: l.shareOf(r.Qty), Ref: r.ID, Reason: r.Reason, Photo: &ph, Key: p.Key}, &res)
	if err != nil {
		return nil, res, err
	}
	r.Status, r.Move = ScrapApproved, m.Seq
	return r, res, tx.PutScrapRequest(r)
}

// ---- stocktake ----

// CountInput is one part counted in a stocktake.
type CountInput struct {
	Part string
	Qty  int64
}

// PostStocktake records a lead's count of a store: every difference from
// the books becomes an adjustment move with the reason. Stock found where
// the books had none is valued at the catalog's reference cost, otherwise
// at the store's average.
func PostStocktake(tx PartsTx, p Posting, store string, counts []CountInput, reason string) (*Stocktake, StockResult, error) {
	var res StockResult
	if err := AuthorizeParts(PartsStocktake, p.By); err != nil {
		return nil, res, err
	}
	if _, err := tx.StockLocation(store); errors.Is(err, ErrNotFound) {
		return nil, res, Errorf(CodeNotFound, "parts.unknown_store", "store", store)
	} else if err != nil {
		return nil, res, err
	}
	why, err := reasonText(reason)
	if err != nil {
		return nil, res, err
	}
	if len(counts) == 0 {
		return nil, res, Errorf(CodeInvalid, "parts.count_empty")
	}
	seen := map[string]bool{}
	parts := make([]*Part, len(counts))
	for i, c := range counts {
		part, err := partByCode(tx, c.Part)
		if err != nil {
			return nil, res, err
		}
		if !part.KeptIn(store) {
			return nil, res, Errorf(CodeInvalid, "parts.not_kept", "part", part.Code, "store", store)
		}
		if seen[part.Code] {
			return nil, res, Errorf(CodeInvalid, "parts.count_dup", "part", part.Code)
		}
		if c.Qty < 0 || c.Qty > MaxStockQty {
			return nil, res, Errorf(CodeInvalid, "parts.bad_count", "part", part.Code, "max", MaxStockQty)
		}
		seen[part.Code] = true
		parts[i] = part
	}
	if p.Key != "" {
		for _, part := range parts {
			if m, err := tx.StockMoveByKey(p.Key + "/" + part.Code); err == nil {
				res.Moves, res.Replayed = append(res.Moves, *m), true
			}
		}
		if res.Replayed {
			return nil, res, nil
		}
	}
	n, err := tx.NextSeq("parts-stocktake")
	if err != nil {
		return nil, res, err
	}
	st := &Stocktake{ID: "ST-" + strconv.Itoa(n), Store: store, By: p.actor(), At: p.At.UTC(), Reason: why}
	for i, c := range counts {
		part := parts[i]
		l, err := tx.StockLevel(part.Code, store)
		if err != nil {
			return nil, res, err
		}
		line := CountLine{Part: part.Code, Book: l.Qty, Counted: c.Qty}
		key := ""
		if p.Key != "" {
			key = p.Key + "/" + part.Code
		}
		var m StockMove
		switch diff := c.Qty - l.Qty; {
		case diff < 0:
			m = StockMove{From: store, To: LocAdjust, Qty: -diff, UnitCost: l.Avg(), Value: l.shareOf(-diff)}
		case diff > 0:
			cost := part.UnitCost
			if l.Qty > 0 {
				cost = l.Avg()
			}
			m = StockMove{From: LocAdjust, To: store, Qty: diff, UnitCost: cost, Value: diff * cost}
		}
		if m.Qty > 0 {
			m.Kind, m.Part, m.Ref, m.Reason, m.Key = MoveAdjust, part.Code, st.ID, why, key
			posted, err := postMove(tx, p, part, m, &res)
			if err != nil {
				return nil, res, err
			}
			line.Move = posted.Seq
		}
		st.Lines = append(st.Lines, line)
	}
	return st, res, tx.PutStocktake(st)
}

// ---- reversal ----

// Reverse undoes a move with its exact opposite (a lead): a correction is
// never an edit. The reversal carries the original value, bounded by what
// the location it takes from still holds (the last units take what is
// left). A reversal is not reversed again (post the move anew), and a
// move is reversed at most once.
func Reverse(tx PartsTx, p Posting, seq uint64, reason string) (StockResult, error) {
	var res StockResult
	if err := AuthorizeParts(PartsReverse, p.By); err != nil {
		return res, err
	}
	if done, err := replayed(tx, p.Key, &res); err != nil || done {
		return res, err
	}
	m, err := tx.StockMove(seq)
	if errors.Is(err, ErrNotFound) {
		return res, Errorf(CodeNotFound, "parts.unknown_move", "seq", seq)
	} else if err != nil {
		return res, err
	}
	if m.Kind == MoveReverse {
		return res, Errorf(CodeConflict, "parts.reverse_reversal", "seq", seq)
	}
	if by, err := tx.StockMoveReversal(seq); err != nil {
		return res, err
	} else if by != 0 {
		return res, Errorf(CodeConflict, "parts.already_reversed", "seq", seq, "by", by)
	}
	why, err := reasonText(reason)
	if err != nil {
		return res, err
	}
	part, err := partByCode(tx, m.Part)
	if err != nil {
		return res, err
	}
	value := m.Value
	if IsHeldLocation(m.To) {
		l, err := tx.StockLevel(m.Part, m.To)
		if err != nil {
			return res, err
		}
		if l.Qty < m.Qty {
			if t, job := JobOf(m.To); job {
				return res, Errorf(CodeConflict, "parts.job_short", "part", part.Code, "ticket", t, "have", l.Qty, "unit", part.Unit)
			}
			return res, Errorf(CodeConflict, "parts.short", "part", part.Code, "name", part.Name, "store", m.To, "have", l.Qty, "want", m.Qty, "unit", part.Unit)
		}
		if l.Qty == m.Qty || value > l.Value {
			value = l.Value
		}
	}
	rev, err := postMove(tx, p, part, StockMove{Kind: MoveReverse, Of: m.Kind, Part: m.Part, From: m.To, To: m.From, Qty: m.Qty,
		UnitCost: m.UnitCost, Value: value, Ref: m.Ref, Reason: why, Reverses: m.Seq, Key: p.Key}, &res)
	if err != nil {
		return res, err
	}
	if m.Kind == MoveReceive && strings.HasPrefix(m.Ref, "PR-") {
		r, err := tx.PurchaseRequest(m.Ref)
		if err != nil {
			return res, err
		}
		for i := range r.Deliveries {
			if r.Deliveries[i].Move == m.Seq {
				r.Deliveries[i].Reversed = rev.Seq
				r.Received -= m.Qty
			}
		}
		r.Status, r.Updated = receivedStatus(r), rev.PostedAt
		if err := tx.PutPurchaseRequest(r); err != nil {
			return res, err
		}
	}
	return res, nil
}

// ---- posting, alerts ----

// postMove appends the move, writes its line on the ticket's audit trail
// when it belongs to a job, and raises or clears low-stock alerts for the
// stores it touched.
func postMove(tx PartsTx, p Posting, part *Part, m StockMove, res *StockResult) (StockMove, error) {
	m.PostedAt, m.Actor = p.At.UTC(), p.actor()
	posted, err := tx.AppendStockMove(m)
	if err != nil {
		return posted, err
	}
	res.Moves = append(res.Moves, posted)
	if t, ok := posted.Ticket(); ok {
		note := fmt.Sprintf("%s ×%d %s %s #%d", posted.Part, posted.Qty, part.Unit, Money(posted.Value), posted.Seq)
		if posted.Kind == MoveReverse {
			note += fmt.Sprintf(" ↶#%d", posted.Reverses)
		}
		if err := tx.AppendTicketEvent(t, TicketEvent{At: posted.PostedAt, Actor: posted.Actor, Action: "parts_" + string(posted.Kind), Note: note, Photos: photoList(posted.Photo)}); err != nil {
			return posted, err
		}
	}
	for _, loc := range []string{posted.From, posted.To} {
		if !IsStoreLocation(loc) {
			continue
		}
		l, err := tx.StockLevel(posted.Part, loc)
		if err != nil {
			return posted, err
		}
		l.Part, l.Location = posted.Part, loc
		res.Levels = append(res.Levels, l)
		if err := checkLow(tx, part, l, posted.Seq, posted.PostedAt, res); err != nil {
			return posted, err
		}
	}
	return posted, nil
}

func photoList(p *Photo) []Photo {
	if p == nil {
		return nil
	}
	return []Photo{*p}
}

// checkLow runs after every move, for each store it touched: a store left
// below the minimum with no open alert raises one; a store back at or
// above it clears its alert. So the leads hear once per shortage.
func checkLow(tx PartsTx, part *Part, l StockLevel, seq uint64, at time.Time, res *StockResult) error {
	a, err := tx.LowStockAlert(part.Code, l.Location)
	open := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	low := part.MinStock > 0 && !part.Retired && l.Qty < part.MinStock && part.KeptIn(l.Location)
	switch {
	case low && !open:
		na := LowStockAlert{Part: part.Code, Store: l.Location, Since: at, Qty: l.Qty, Min: part.MinStock, SeqAt: seq}
		res.Alerts = append(res.Alerts, na)
		return tx.PutLowStockAlert(na)
	case !low && open:
		res.Recovered = append(res.Recovered, *a)
		return tx.DeleteLowStockAlert(part.Code, l.Location)
	}
	return nil
}

// clearLow clears an open alert that a catalog change made moot.
func clearLow(tx PartsTx, part *Part, l StockLevel, res *StockResult) error {
	a, err := tx.LowStockAlert(part.Code, l.Location)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if part.MinStock > 0 && !part.Retired && l.Qty < part.MinStock && part.KeptIn(l.Location) {
		return nil
	}
	res.Recovered = append(res.Recovered, *a)
	return tx.DeleteLowStockAlert(part.Code, l.Location)
}

func replayed(tx PartsTx, key string, res *StockResult) (bool, error) {
	if key == "" {
		return false, nil
	}
	m, err := tx.StockMoveByKey(key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	res.Moves, res.Replayed = append(res.Moves, *m), true
	return true, nil
}

func partByCode(tx PartsTx, code string) (*Part, error) {
	c := NormalizePartCode(code)
	p, err := tx.Part(c)
	if errors.Is(err, ErrNotFound) || c == "" {
		return nil, Errorf(CodeNotFound, "parts.unknown_part", "code", c)
	}
	return p, err
}

func livePart(tx PartsTx, code string) (*Part, error) {
	p, err := partByCode(tx, code)
	if err == nil && p.Retired {
		return nil, Errorf(CodeConflict, "parts.retired", "code", p.Code)
	}
	return p, err
}

func keptIn(tx PartsTx, part *Part, store string) error {
	if _, err := tx.StockLocation(store); errors.Is(err, ErrNotFound) || store == "" {
		return Errorf(CodeNotFound, "parts.unknown_store", "store", store)
	} else if err != nil {
		return err
	}
	if !part.KeptIn(store) {
		return Errorf(CodeInvalid, "parts.not_kept", "part", part.Code, "store", store)
	}
	return nil
}

func checkQty(q int64) error {
	if q <= 0 || q > MaxStockQty {
		return Errorf(CodeInvalid, "parts.bad_qty", "max", MaxStockQty)
	}
	return nil
}

func reasonText(s string) (string, error) {
	s = cleanText(s, maxPartReason)
	if s == "" {
		return "", Errorf(CodeInvalid, "parts.reason_required")
	}
	return s, nil
}

// ---- projection check ----

// LevelDiff is a level where the stored projection and the ledger disagree.
type LevelDiff struct {
	Part, Location string
	Stored, Ledger StockLevel
}

// ProjectStockLedger replays the whole ledger through ApplyStockMove and
// returns every non-zero level, keyed by location then part.
func ProjectStockLedger(tx PartsTx) (map[[2]string]StockLevel, error) {
	levels := map[[2]string]StockLevel{}
	get := func(part, loc string) (StockLevel, error) { return levels[[2]string{loc, part}], nil }
	err := tx.EachStockMove(0, func(m *StockMove) error {
		ls, err := ApplyStockMove(get, *m)
		if err != nil {
			return fmt.Errorf("parts: move %d does not apply: %w", m.Seq, err)
		}
		for _, l := range ls {
			k := [2]string{l.Location, l.Part}
			if l.Qty == 0 && l.Value == 0 {
				delete(levels, k)
			} else {
				levels[k] = l
			}
		}
		return nil
	})
	return levels, err
}

// VerifyStockLevels compares the stored levels with the ledger's
// projection; nil means they agree.
func VerifyStockLevels(tx PartsTx) ([]LevelDiff, error) {
	want, err := ProjectStockLedger(tx)
	if err != nil {
		return nil, err
	}
	var diffs []LevelDiff
	err = tx.EachStockLevel(func(l StockLevel) error {
		k := [2]string{l.Location, l.Part}
		w := want[k]
		delete(want, k)
		if w.Qty != l.Qty || w.Value != l.Value {
			diffs = append(diffs, LevelDiff{Part: l.Part, Location: l.Location, Stored: l, Ledger: w})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for k, w := range want {
		diffs = append(diffs, LevelDiff{Part: k[1], Location: k[0], Ledger: w})
	}
	sort.Slice(diffs, func(i, j int) bool {
		if diffs[i].Location != diffs[j].Location {
			return diffs[i].Location < diffs[j].Location
		}
		return diffs[i].Part < diffs[j].Part
	})
	return diffs, nil
}

// RebuildStockLevels replaces the stored levels with the ledger's
// projection and returns how many levels there are.
func RebuildStockLevels(tx PartsTx) (int, error) {
	want, err := ProjectStockLedger(tx)
	if err != nil {
		return 0, err
	}
	levels := make([]StockLevel, 0, len(want))
	for _, l := range want {
		levels = append(levels, l)
	}
	sort.Slice(levels, func(i, j int) bool {
		if levels[i].Location != levels[j].Location {
			return levels[i].Location < levels[j].Location
		}
		return levels[i].Part < levels[j].Part
	})
	return len(levels), tx.ReplaceStockLevels(levels)
}
