package flows

import "time"

// CallbacksTx holds customer service's phone-callback list: residents who
// did not answer a callback visit in chat.
type CallbacksTx interface {
	// AddPhoneCallback puts a ticket on the list (again: replaces).
	AddPhoneCallback(c PhoneCallback) error
	// RemovePhoneCallback takes a ticket off the list; a missing one is not an error.
	RemovePhoneCallback(ticketID string) error
	// PhoneCallbacks lists the list, oldest Since first.
	PhoneCallbacks() ([]PhoneCallback, error)
}

// PhoneCallback is one line of the phone-callback list.
type PhoneCallback struct {
	TicketID string    `json:"ticket_id"`
	Since    time.Time `json:"since"`
}

// Callback is a ticket's callback visit (回访): N days after closing the
// resident is asked whether the fix held and how satisfied they are.
type Callback struct {
	// Due is when the resident is (or was) asked.
	Due time.Time `json:"due"`
	// Status is scheduled, asked, phone (on customer service's list),
	// held or not_held.
	Status   string     `json:"status"`
	Asked    *time.Time `json:"asked,omitempty"`
	Answered *time.Time `json:"answered,omitempty"`
	// Score is the satisfaction at the callback, 1-5 (0 not given).
	Score int `json:"score,omitempty"`
	// Via is chat (the resident's buttons) or phone (the clerk's record); By who recorded it.
	Via string `json:"via,omitempty"`
	By  string `json:"by,omitempty"`
}
