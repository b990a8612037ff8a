package wecom

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// Group robot (群机器人) limits: "每个机器人发送的消息不能超过20条/分钟";
// text content at most 2048 bytes, markdown 4096.
const (
	maxRobotText     = 2048
	maxRobotMarkdown = 4096
	errRobotKey      = 93000 // invalid webhook url (a wrong or removed key)
)

// sendRobot posts a group message through the robot webhook. A robot is
// push-only: it cannot carry buttons or receive a click. So a card with
// buttons is sent first to every WeCom technician privately as an
// interactive template card (the same path and per-member budgets as an
// appchat's cards), then posted to the group as markdown for everyone to
// see. The private cards go first: they are idempotent on a retry (task
// id and duplicate check), the robot post is not.
//
// Card edits (accepted by X, on site, done) cannot edit a robot message;
// each becomes a new one. Edits of the same card still queued are
// coalesced by the outbox (only the latest state is posted), and they
// spend the robot's 20-a-minute budget after new cards and urgent rows.
func (s *Sender) sendRobot(ctx context.Context, r outbox.Row) (string, error) {
	m := r.Msg
	if s.c.o.RobotKey == "" {
		return "", &permanentError{"wecom: a message for the group robot, but no robot key is configured"}
	}
	code := ""
	if len(m.Buttons) > 0 {
		ids, err := s.robotMembers(ctx)
		if err != nil {
			return "", err
		}
		if len(ids) > 0 {
			if err := s.chargeMembers(ids); err != nil {
				return "", err
			}
			_, c, err := s.sendCards(ctx, r, strings.Join(ids, "|"))
			if err != nil {
				return "", err
			}
			code = c
		} else {
			s.c.o.Log.Warn().Uint64("row", r.ID).Msg("wecom robot: no WeCom technician to send the card's buttons to")
		}
	}
	text := plainText(m)
	if len(m.Buttons) > 0 && s.c.o.RobotHint != "" {
		text = strings.TrimRight(text, "\n") + "\n" + s.c.o.RobotHint
	}
	if err := s.robotPost(ctx, "markdown", map[string]any{"content": clipBytes(robotMarkdown(text), maxRobotMarkdown)}); err != nil {
		return "", err
	}
	return cardCode("", code, nil)
}

// robotMarkdown keeps a card's lines as lines (markdown joins single
// newlines) and its first line bold.
func robotMarkdown(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) > 0 && lines[0] != "" {
		lines[0] = "**" + strings.ReplaceAll(lines[0], "*", "＊") + "**"
	}
	return strings.Join(lines, "  \n")
}

// robotMembers are the technicians reached on the WeCom app: they get a
// robot card's buttons privately.
func (s *Sender) robotMembers(ctx context.Context) ([]string, error) {
	return appUserIDs(ctx, s.c.o.Store, flows.RoleTechnician)
}

// robotPost calls webhook/send. The key is a secret and part of the URL,
// so errors never quote the URL.
func (s *Sender) robotPost(ctx context.Context, msgtype string, content any) error {
	const path = "/cgi-bin/webhook/send"
	err := s.c.api.do(ctx, http.MethodPost, path, url.Values{"key": {s.c.o.RobotKey}}, map[string]any{"msgtype": msgtype, msgtype: content}, nil)
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Code == errRobotKey:
		return &permanentError{"wecom webhook/send: errcode 93000: the robot key is wrong or the robot was removed"}
	case errors.As(err, &ae) && ae.Code == errFreqLimit:
		// Someone else posts through the same robot: our count is off, so
		// wait a whole window of the robot's limit.
		return &robotFull{wait: s.lim.Robot.Per, err: err}
	}
	return err
}

// robotFull is the robot's 45009: pause the robot's address for a window.
type robotFull struct {
	wait time.Duration
	err  error
}

func (e *robotFull) Error() string { return e.err.Error() }
