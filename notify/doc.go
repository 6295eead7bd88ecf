// Package notify delivers pinwatchd's notifications: alert changes (opened,
// reminder, escalated, resolved) and chain_changed events.
//
// It owns the Slack message format (Render: Block Kit blocks with a
// plain-text fallback; RenderDigest: one message listing many changes), the
// Slack notifier (an incoming webhook or a bot token with threading,
// through slack-go), the log notifier that records every notification with
// log/slog, and the Sender that drains the durable outbox: each channel on
// its own and in order, coalesced over a digest window, retrying with
// exponential backoff, pausing a channel on a rate limit (at most
// MaxRetryAfter), parking what Slack refuses for good, and removing a
// notification only once Slack accepted it. Errors and logs never carry the
// webhook URL or the token. The outbox itself is stored by the storage
// package behind the Outbox interface defined here; this is the only
// package that imports slack-go.
package notify
