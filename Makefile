# pinwatchd build and install.
#
#   make build                  static binary ./pinwatchd
#   make test                   the test suite (go test -race ./...)
#   make bench                  the performance budgets of SPEC §11 (BENCHMARKS.md)
#   make install                binary, systemd unit, example config (if none)
#   make uninstall              binary and unit; config and state stay
#
# Packagers: make install DESTDIR=/tmp/stage PREFIX=/usr

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
# Units of locally built software go to $(PREFIX)/lib/systemd/system
# (/usr/local/lib/systemd/system by default), which systemd searches after
# /etc/systemd/system: the administrator's overrides and drop-ins in /etc
# keep winning, and a reinstall never clobbers them. Distribution packages
# use /usr/lib/systemd/system, which PREFIX=/usr gives.
UNITDIR    ?= $(PREFIX)/lib/systemd/system

GO         ?= go
# make bench keeps the year of history its storage benchmarks build here, to
# time the query commands on it as whole processes.
BENCH_YEAR_DB ?= $(or $(TMPDIR),/tmp)/pinwatchd-bench-year.db
BINARY     := pinwatchd

# The version is `git describe` of the checkout ("v1.2.0-3-gabc1234-dirty"),
# the commit its full hash; outside a git checkout they are "dev" and empty
# (the binary then reports commit "unknown").
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT     ?= $(shell git rev-parse HEAD 2>/dev/null)
# Recursive (=), so git runs only when a build needs the values.
LDFLAGS     = -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build test bench install uninstall clean

all: build

# CGO_ENABLED=0 gives a static binary (the SQLite driver is pure Go), which
# also means names are resolved by Go's own resolver.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) ./cmd/pinwatchd

# The race detector needs cgo, so this target leaves CGO_ENABLED alone.
test:
	$(GO) test -race ./...

# The performance budgets (SPEC §11), about fifteen minutes on 2 cores: CPU
# of `check --record` and of the daemon's steady state against a bare TLS
# client over 600 loopback targets (9 alternating pairs each), daemon
# start-up and memory with 10,000 and then 100,000 targets, then the
# storage (SQLite and a throwaway PostgreSQL) and probe benchmarks, each
# figure measured several times. BENCHMARKS.md reads them.
bench:
	$(GO) run ./internal/bench/cmd/pinwatchd-bench
	$(GO) run ./internal/bench/cmd/pinwatchd-bench -targets 0 -daemon-targets 0 -large-targets 100000
	$(GO) test -run '^$$' -bench 'RecordUnchanged|HistoryYear|CertsYear|AlertsYear' -count 3 ./storage/ -args -year-db $(BENCH_YEAR_DB)
	$(GO) run ./internal/bench/cmd/pinwatchd-bench -targets 0 -daemon-targets 0 -queries-db $(BENCH_YEAR_DB)
	rm -f $(BENCH_YEAR_DB)
	$(GO) test -run '^$$' -bench 'GrowthMillionProbes' -benchtime 1x -count 3 ./storage/
	$(GO) test -run '^$$' -bench 'Round10000/batch(10000|256)$$' -benchtime 20x -count 5 ./storage/postgres/ ./storage/
	$(GO) test -run '^$$' -bench 'GroupCommitRound10000/(sqlite|postgres)/group$$' -benchtime 5x -count 3 ./internal/daemon/
	$(GO) test -run '^$$' -bench 'BenchmarkProbe$$|BenchmarkBareClient$$' -count 3 ./monitor/
	$(GO) test -run '^$$' -bench 'VerifyHostileChain' -count 5 ./monitor/

# The binary and the unit are ours and are replaced on every install; the
# unit's ExecStart= is pointed at $(BINDIR). The config is the
# administrator's: the example is installed only where no config exists.
install: build
	install -D -m 0755 $(BINARY) $(DESTDIR)$(BINDIR)/$(BINARY)
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin/pinwatchd|$(BINDIR)/pinwatchd|g' systemd/pinwatchd.service >$(DESTDIR)$(UNITDIR)/pinwatchd.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/pinwatchd.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/pinwatchd.service.tmp $(DESTDIR)$(UNITDIR)/pinwatchd.service
	install -d -m 0755 $(DESTDIR)/etc/pinwatchd
	@if [ -e $(DESTDIR)/etc/pinwatchd/config.toml ]; then \
		echo "kept existing $(DESTDIR)/etc/pinwatchd/config.toml"; \
	else \
		install -m 0644 config.example.toml $(DESTDIR)/etc/pinwatchd/config.toml && \
		echo "installed example config as $(DESTDIR)/etc/pinwatchd/config.toml: edit it before starting the service"; \
	fi
	@if [ ! -e $(DESTDIR)/etc/pinwatchd/slack-webhook ]; then \
		echo "note: the unit loads the Slack webhook URL from /etc/pinwatchd/slack-webhook (root, mode 0600)"; \
		echo "      and does not start while it is missing; create it, or clear LoadCredential= in a drop-in."; \
	fi
	@echo "then: systemctl daemon-reload && systemctl enable --now pinwatchd"

# Stop the service first: systemctl disable --now pinwatchd
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/$(BINARY) $(DESTDIR)$(UNITDIR)/pinwatchd.service
	@echo "removed $(DESTDIR)$(BINDIR)/$(BINARY) and $(DESTDIR)$(UNITDIR)/pinwatchd.service"
	@echo "left alone: $(DESTDIR)/etc/pinwatchd (config, webhook URL) and the database in /var/lib/pinwatchd"
	@echo "(/var/lib/private/pinwatchd under DynamicUser=); remove them by hand if they are no longer wanted"

clean:
	rm -f $(BINARY)
