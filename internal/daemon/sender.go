package daemon

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/metrics"
	"github.com/pinwatchd/pinwatchd/notify"
)

// outboxSender runs a notify.Sender over the database's outbox in the
// background.
type outboxSender struct {
	s      *notify.Sender
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// ownerPrefix begins the owner name of every sender of this node, in this
// life and the ones before: its vantage, which names one node (SPEC §14).
func ownerPrefix(cfg *config.Config) string { return cfg.VantageName() + "/" }

// newOutboxSender builds the sender of cfg: custom when given, else Slack
// when configured, else log only. Secrets are read here, from the files the
// config names.
func newOutboxSender(cfg *config.Config, db notify.Outbox, log *slog.Logger, m *metrics.Metrics, custom notify.Notifier) (*outboxSender, error) {
	// The claims on the outbox name the node and this sender: a reload's
	// new sender never takes the old one's for its own.
	owner := fmt.Sprintf("%s%d/%s", ownerPrefix(cfg), os.Getpid(), rand.Text())
	sc := notify.SenderConfig{Outbox: db, Owner: owner, Log: log, DigestWindow: cfg.Alerts.DigestWindow.Duration, Result: func(result string, n int) {
		for range n {
			m.NotificationResult(result)
		}
	}}
	if custom != nil {
		sc.Slack = custom
		return &outboxSender{s: notify.NewSender(sc)}, nil
	}
	slack, err := buildSlack(cfg, log)
	if err != nil {
		return nil, err
	}
	if slack != nil {
		sc.Slack = slack
	}
	return &outboxSender{s: notify.NewSender(sc)}, nil
}

// buildSlack returns the Slack notifier of cfg, reading its secret files,
// or nil when cfg only logs. `config check` calls it too (LoadOptions).
// Errors name the setting, never a secret.
func buildSlack(cfg *config.Config, log *slog.Logger) (*notify.Slack, error) {
	webhook, err := cfg.Slack.Webhook()
	if err != nil {
		return nil, err
	}
	token, err := cfg.Slack.Token()
	if err != nil {
		return nil, err
	}
	if webhook == "" && token == "" {
		return nil, nil
	}
	return notify.NewSlack(notify.SlackConfig{WebhookURL: webhook, Token: token, Channel: cfg.Slack.Channel, APIURL: cfg.Slack.APIURL, Log: log})
}

// Start runs the sender until Stop.
func (o *outboxSender) Start(ctx context.Context) {
	ctx, o.cancel = context.WithCancel(ctx)
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		_ = o.s.Run(ctx)
	}()
}

// Wake asks the sender to look at the outbox now.
func (o *outboxSender) Wake() { o.s.Wake() }

// Stop stops the background sender and waits for it.
func (o *outboxSender) Stop() {
	if o.cancel != nil {
		o.cancel()
	}
	o.wg.Wait()
}

// Flush delivers what is pending until ctx is done.
func (o *outboxSender) Flush(ctx context.Context) error { return o.s.Flush(ctx) }
