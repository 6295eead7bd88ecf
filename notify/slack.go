package notify

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/slack-go/slack"
)

// DefaultTimeout bounds one request to Slack when SlackConfig.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// SlackConfig configures a Slack notifier: exactly one of WebhookURL and
// Token.
type SlackConfig struct {
	// WebhookURL is an incoming webhook's URL, which is also its address.
	// A secret.
	WebhookURL string
	// Token is a bot token (xoxb-…), used with the Web API. A secret.
	Token string
	// Channel is the default channel of a bot token, for batches that name
	// none; it may be empty when every batch names its channel (SPEC §8:
	// every target sets slack_channel). With a webhook it overrides the
	// webhook's channel when set (legacy webhooks honour it).
	Channel string
	// APIURL overrides the Web API address used with a bot token (proxies,
	// tests); empty means Slack's.
	APIURL string
	// Timeout bounds each HTTP request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock for rendering; nil means time.Now.
	Now func() time.Time
	// Log receives warnings that do not fail a delivery (a failed
	// chat.update); nil discards them.
	Log *slog.Logger
}

// Slack delivers notifications to Slack through an incoming webhook or a
// bot token. With a bot token, reminders, escalations and resolves of an
// alert whose opening message is known (Alert.Channel, Alert.ThreadTS) are
// posted in its thread, and a resolve also updates the opening message to
// show it resolved. Safe for concurrent use.
type Slack struct {
	webhook string
	api     *slack.Client
	channel string
	client  *http.Client
	now     func() time.Time
	log     *slog.Logger
	red     redactor
}

// NewSlack checks cfg and returns a Slack notifier. Errors name the missing
// or conflicting setting, never a secret.
func NewSlack(cfg SlackConfig) (*Slack, error) {
	switch {
	case cfg.WebhookURL != "" && cfg.Token != "":
		return nil, errors.New("slack: both a webhook URL and a bot token are set; configure one")
	case cfg.WebhookURL == "" && cfg.Token == "":
		return nil, errors.New("slack: neither a webhook URL nor a bot token is set")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	s := &Slack{
		webhook: cfg.WebhookURL,
		channel: cfg.Channel,
		client:  &http.Client{Timeout: timeout, Transport: retryAfterTransport{http.DefaultTransport}},
		now:     cfg.Now,
		log:     cfg.Log,
		red:     newRedactor(cfg.WebhookURL, cfg.Token),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Token != "" {
		opts := []slack.Option{slack.OptionHTTPClient(s.client)}
		if cfg.APIURL != "" {
			u := cfg.APIURL
			if !strings.HasSuffix(u, "/") {
				u += "/"
			}
			opts = append(opts, slack.OptionAPIURL(u))
		}
		s.api = slack.New(cfg.Token, opts...)
	}
	return s, nil
}

// Notify posts b as one message: a single notification as itself, several as
// a digest. Errors are *DeliveryError with secrets removed.
func (s *Slack) Notify(ctx context.Context, b Batch) (Receipt, error) {
	msg := RenderBatch(b.Notes, s.now())
	if s.api == nil {
		err := slack.PostWebhookCustomHTTPContext(ctx, s.webhook, s.client, msg.WebhookMessage(b.Channel))
		if err != nil {
			return Receipt{}, newDeliveryError("post to slack webhook", err, s.red)
		}
		return Receipt{}, nil
	}
	return s.post(ctx, b, msg)
}

// post sends msg with the Web API, threading it under the alert's opening
// message when that is known.
func (s *Slack) post(ctx context.Context, b Batch, msg Message) (Receipt, error) {
	channel := b.Channel
	if channel == "" {
		channel = s.channel
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
	}
	var opener *pinwatchd.Alert
	if len(b.Notes) == 1 {
		n := &b.Notes[0]
		if a := n.Alert; a != nil && a.ThreadTS != "" && a.Channel != "" && n.Type != pinwatchd.ChangeOpened {
			channel = a.Channel
			opts = append(opts, slack.MsgOptionTS(a.ThreadTS))
			if n.Type == pinwatchd.ChangeEscalated {
				opts = append(opts, slack.MsgOptionBroadcast())
			}
			if n.Type == pinwatchd.ChangeResolved {
				opener = a
			}
		}
	}
	ch, ts, err := s.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return Receipt{}, newDeliveryError("post to slack channel "+channel, err, s.red)
	}
	if opener != nil {
		// Slack took the resolve: the update of the opener must not be
		// cut short by a reload or shutdown that cancels ctx.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.client.Timeout)
		s.markResolved(uctx, opener, msg)
		cancel()
	}
	return Receipt{Channel: ch, TS: ts}, nil
}

// markResolved updates an alert's opening message to show it resolved. The
// resolve itself was already posted in the thread, so a failure here is
// logged and does not fail the delivery (retrying would post it twice).
func (s *Slack) markResolved(ctx context.Context, a *pinwatchd.Alert, msg Message) {
	_, _, _, err := s.api.UpdateMessageContext(ctx, a.Channel, a.ThreadTS,
		slack.MsgOptionText(msg.Text, false), slack.MsgOptionBlocks(msg.Blocks...))
	if err != nil {
		de := newDeliveryError("update slack message "+a.ThreadTS+" in "+a.Channel, err, s.red)
		s.log.LogAttrs(ctx, slog.LevelWarn, "could not mark the opening slack message resolved",
			slog.String(attrTarget, a.Target), slog.String(attrKind, string(a.Kind)),
			slog.Int64(attrAlert, a.ID), slog.String(attrErr, de.Error()))
	}
}

// retryAfterTransport rewrites a 429's Retry-After into whole seconds
// between 0 and MaxRetryAfter, the only form slack-go parses: an HTTP date
// becomes the seconds until it, and a huge number (which would overflow a
// time.Duration) becomes the cap. So the pause is honoured whichever form
// Slack or a proxy uses, and never for longer than MaxRetryAfter.
type retryAfterTransport struct {
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return resp, nil
	}
	limit := int64(MaxRetryAfter / time.Second)
	secs := int64(defaultRetryAfter / time.Second)
	if n, perr := strconv.ParseInt(v, 10, 64); perr == nil {
		secs = n
	} else if ne, ok := errors.AsType[*strconv.NumError](perr); ok && ne.Err == strconv.ErrRange && !strings.HasPrefix(v, "-") {
		secs = limit // more digits than an int64 holds
	} else if at, perr := http.ParseTime(v); perr == nil {
		secs = int64(time.Until(at).Round(time.Second) / time.Second)
	}
	resp.Header.Set("Retry-After", strconv.FormatInt(min(max(secs, 0), limit), 10))
	return resp, nil
}
