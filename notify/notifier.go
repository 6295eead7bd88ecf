package notify

import (
	"context"

	"github.com/pinwatchd/pinwatchd"
)

// Batch is what one message carries: one notification, or a digest of
// several for one channel from one digest window.
type Batch struct {
	Channel string // destination channel; empty for the default one
	Notes   []pinwatchd.Notification
}

// Receipt says where a delivered message went. Only a bot-token notifier
// fills it (Slack's channel ID and message ts); it is empty otherwise.
type Receipt struct {
	Channel string
	TS      string
}

// Notifier delivers batches. Slack and LogNotifier implement it.
type Notifier interface {
	// Notify delivers b as one message and returns where it went. An
	// error means b was not accepted; a *DeliveryError says whether and
	// when to retry (other errors are treated as retryable). Errors carry
	// no secrets. Safe for concurrent use.
	Notify(ctx context.Context, b Batch) (Receipt, error)
}
