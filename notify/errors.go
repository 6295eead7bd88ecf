package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// ErrorClass says what a failed delivery means for the next attempt.
type ErrorClass int

// Error classes.
const (
	// Retryable: Slack or the network failed (5xx, timeout, connection
	// error); retry with exponential backoff.
	Retryable ErrorClass = iota + 1
	// RateLimited: Slack answered 429; pause every send to the destination
	// for DeliveryError.RetryAfter.
	RateLimited
	// Permanent: Slack refused the request (channel_not_found,
	// not_in_channel, is_archived, invalid_blocks, invalid_auth, any other
	// Web API error not known to be transient, a 4xx webhook answer);
	// retrying will not help until an operator fixes the configuration, so
	// the notification is parked as undeliverable (Outbox.Park).
	Permanent
)

// String returns "retryable", "rate_limited" or "permanent".
func (c ErrorClass) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case RateLimited:
		return "rate_limited"
	case Permanent:
		return "permanent"
	}
	return fmt.Sprintf("error_class(%d)", int(c))
}

// defaultRetryAfter is the pause after a 429 that carried no usable
// Retry-After header.
const defaultRetryAfter = 30 * time.Second

// MaxRetryAfter is the longest pause a 429 can impose: a larger
// Retry-After (a proxy's, or a bogus one) is honoured for this long only.
const MaxRetryAfter = 15 * time.Minute

// DeliveryError is a failed delivery to Slack, classified, with every secret
// (webhook URL, token) replaced by "[redacted]" in its message. It keeps no
// reference to the underlying error, whose text may hold a secret; Unwrap
// returns only context.Canceled or context.DeadlineExceeded when the failure
// was one of those.
type DeliveryError struct {
	Class      ErrorClass
	RetryAfter time.Duration // how long to pause, at most MaxRetryAfter; RateLimited only
	msg        string
	ctxErr     error
}

// Error returns the redacted message.
func (e *DeliveryError) Error() string { return e.msg }

// Unwrap returns the context error behind the failure, or nil.
func (e *DeliveryError) Unwrap() error { return e.ctxErr }

// newDeliveryError classifies err and removes the secrets known to r from its
// message. op says what failed, e.g. "post to slack webhook".
func newDeliveryError(op string, err error, r redactor) *DeliveryError {
	class, after := classify(err)
	de := &DeliveryError{Class: class, RetryAfter: after, msg: r.redact(op + ": " + err.Error())}
	switch {
	case errors.Is(err, context.Canceled):
		de.ctxErr = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		de.ctxErr = context.DeadlineExceeded
	}
	return de
}

// asDeliveryError returns err as a *DeliveryError, classifying errors of
// other notifiers as retryable.
func asDeliveryError(err error) *DeliveryError {
	if de, ok := errors.AsType[*DeliveryError](err); ok {
		return de
	}
	return &DeliveryError{Class: Retryable, msg: err.Error()}
}

// Web API error codes worth retrying; every other code is permanent.
var transientAPIErrors = []string{
	"internal_error", "fatal_error", "service_unavailable", "request_timeout",
	"ratelimited", "team_added_to_org",
}

// classify sorts an error of slack-go or net/http into an ErrorClass; for
// RateLimited it also returns the pause, at most MaxRetryAfter.
func classify(err error) (ErrorClass, time.Duration) {
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return RateLimited, min(rl.RetryAfter, MaxRetryAfter)
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		switch {
		case sc.Code == http.StatusTooManyRequests:
			return RateLimited, defaultRetryAfter
		case sc.Code >= 500:
			return Retryable, 0
		case sc.Code == http.StatusRequestTimeout:
			return Retryable, 0
		}
		return Permanent, 0
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		if se.Err == "ratelimited" {
			return RateLimited, defaultRetryAfter
		}
		if slices.Contains(transientAPIErrors, se.Err) {
			return Retryable, 0
		}
		return Permanent, 0
	}
	// Timeouts, refused or reset connections (*url.Error, net.Error), a
	// proxy's HTML page, a truncated body: transient, or at least not
	// Slack's verdict on the message. The notification is kept either way.
	return Retryable, 0
}

// redacted replaces a secret in errors and logs.
const redacted = "[redacted]"

// redactor replaces secrets in strings. The zero value redacts nothing.
type redactor struct {
	secrets []string // longest first
}

// newRedactor returns a redactor for the given secrets: each value itself,
// its URL-escaped forms and, for a URL, its path (the secret part of a Slack
// webhook URL) when that path is long enough not to be a common word.
// Empty values are ignored.
func newRedactor(secrets ...string) redactor {
	var all []string
	add := func(s string) {
		if len(s) >= 6 && !slices.Contains(all, s) {
			all = append(all, s)
		}
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		add(s)
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			p := strings.TrimPrefix(u.Path, "/")
			add(u.EscapedPath())
			add(p)
			add(url.PathEscape(p))
			add(url.QueryEscape(p))
			if i := strings.LastIndexByte(p, '/'); i >= 0 && len(p)-i > 16 {
				add(p[i+1:]) // the secret part of a webhook path on its own
			}
		}
	}
	slices.SortFunc(all, func(a, b string) int { return len(b) - len(a) })
	return redactor{secrets: all}
}

// redact returns s with every secret replaced by "[redacted]".
func (r redactor) redact(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return s
}
