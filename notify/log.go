package notify

import (
	"context"
	"log/slog"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/logkey"
)

// Attribute keys of the notification log lines; those shared with other
// packages come from logkey.
const (
	attrNotification = "notification_id"
	attrTarget       = logkey.Target
	attrKind         = logkey.Kind
	attrChange       = "change"
	attrSeverity     = "severity"
	attrPrevSeverity = "previous_severity"
	attrAddresses    = "addresses"
	attrAddress      = logkey.Address
	attrMessage      = "message"
	attrReason       = "reason"
	attrChannel      = "channel"
	attrAlert        = "alert_id"
	attrClass        = "class"
	attrOldLeafPin   = "old_leaf_pin"
	attrNewLeafPin   = "new_leaf_pin"
	attrIssuer       = "issuer"
	attrNotAfter     = "not_after"
	attrErr          = logkey.Err
	attrClassOfErr   = "error_class"
	attrAttempts     = "attempts"
	attrRetryIn      = "retry_in"
	attrCount        = "count"
)

// LogNotifier writes one structured log line per notification. It is the
// daemon's notifier when Slack is not configured and is used alongside Slack
// otherwise, so that every notification is also logged. It is safe for
// concurrent use.
type LogNotifier struct {
	log *slog.Logger
}

// NewLogNotifier returns a LogNotifier writing to log.
func NewLogNotifier(log *slog.Logger) *LogNotifier {
	return &LogNotifier{log: log}
}

// Notify logs every notification of b and never fails.
func (l *LogNotifier) Notify(ctx context.Context, b Batch) (Receipt, error) {
	for i := range b.Notes {
		l.Log(ctx, &b.Notes[i])
	}
	return Receipt{}, nil
}

// Log writes the line for one notification: Warn for an alert opened,
// reminded or escalated at warning or above, Info otherwise.
func (l *LogNotifier) Log(ctx context.Context, n *pinwatchd.Notification) {
	attrs := []slog.Attr{
		slog.String(attrTarget, n.Target()),
		slog.String(attrChange, string(n.Type)),
	}
	if n.ID != 0 {
		attrs = append(attrs, slog.Int64(attrNotification, n.ID))
	}
	if n.Channel != "" {
		attrs = append(attrs, slog.String(attrChannel, n.Channel))
	}
	level, msg := slog.LevelInfo, "notification"
	switch {
	case n.Alert != nil:
		a := n.Alert
		attrs = append(attrs,
			slog.String(attrKind, string(a.Kind)),
			slog.String(attrSeverity, a.Severity.String()),
			slog.Any(attrAddresses, a.Addresses),
			slog.String(attrMessage, a.Message),
		)
		if a.ID != 0 {
			attrs = append(attrs, slog.Int64(attrAlert, a.ID))
		}
		switch n.Type {
		case pinwatchd.ChangeResolved:
			attrs = append(attrs, slog.String(attrReason, a.ResolveReason))
			msg = "alert resolved"
		case pinwatchd.ChangeEscalated:
			attrs = append(attrs, slog.String(attrPrevSeverity, n.PrevSeverity.String()))
			msg = "alert escalated"
		case pinwatchd.ChangeReminder:
			msg = "alert still firing"
		default:
			msg = "alert opened"
		}
		if n.Type != pinwatchd.ChangeResolved && a.Severity >= pinwatchd.SeverityWarning {
			level = slog.LevelWarn
		}
	case n.Event != nil:
		e := n.Event
		attrs = append(attrs,
			slog.String(attrKind, string(pinwatchd.KindChainChanged)),
			slog.String(attrSeverity, pinwatchd.SeverityInfo.String()),
			slog.Any(attrAddresses, []string{e.Address}),
			slog.String(attrAddress, e.Address),
			slog.String(attrClass, string(e.Class)),
			slog.String(attrOldLeafPin, e.OldLeafPin),
			slog.String(attrNewLeafPin, e.NewLeafPin),
			slog.String(attrIssuer, e.Issuer),
			slog.Time(attrNotAfter, e.NotAfter),
			slog.String(attrMessage, classSentence(e.Class)),
		)
		msg = "chain changed"
	}
	l.log.LogAttrs(ctx, level, msg, attrs...)
}
