// Package notify delivers pinwatchd's notifications: alert changes (opened,
// reminder, escalated, resolved) and chain_changed events.
//
// It owns the Slack message format (Render: Block Kit blocks with a
// plain-text fallback, digests of a busy round), the Slack notifier (an
// incoming webhook or a bot token with threading, through slack-go), the log
// notifier that records every notification with log/slog, and the Sender
// that drains the durable outbox: in order per channel, retrying with
// exponential backoff, pausing on rate limits, and removing a notification
// only once Slack accepted it. Errors and logs never carry the webhook URL
// or the token. The outbox itself is stored by the storage package behind
// the Outbox interface defined here; this is the only package that imports
// slack-go.
package notify
