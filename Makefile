# agentdesk: the two commands are `make run` and `make test`. Each installs what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

BIN      := bin/agentdesk
NPM_DEPS := frontend/node_modules/.installed
CHROMIUM ?= /usr/bin/chromium
CLAMD    ?= /usr/sbin/clamd

.PHONY: run test build frontend go-checks go-test go-test-plain go-test-race node-test generate-check chromium clamav mailtools bench bench-assist clean

## run: build the SPA and the server, and start it on the embedded store with demo data.
run: build
	./$(BIN) -demo

## build: the SPA (into frontend/dist, embedded) and then the one binary.
build: frontend
	go build -o $(BIN) ./cmd/agentdesk

$(NPM_DEPS): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend: $(NPM_DEPS)
	cd frontend && npm run build

## test: every test and check: Go (both storage adapters), lint, generated code, frontend unit, Node protocol and browser tests.
## Once the SPA and the binary are built and the generated code checked, the checks, the Go
## tests (the race run and the plain one) and the frontend's run side by side: the race run of
## the server package is the longest, and starts first; the others fill the cores around it.
## Each target's output is printed when it ends.
test: chromium clamav mailtools build generate-check
	$(MAKE) --no-print-directory -j4 --output-sync=target go-test-race go-checks go-test-plain node-test
	@echo "make test: all passed"

generate-check:
	go generate ./...
	@if [ -d .git ] && [ -n "$$(git status --porcelain -- graph gqlgen.yml schema.graphqls)" ]; then \
		git status --porcelain -- graph; git diff --stat -- graph; \
		echo "go generate ./... changed generated code: run it and commit the result"; exit 1; fi

go-checks:
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './frontend/node_modules/*')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go tool staticcheck ./...

# The packages where requests, sockets, timers and nodes meet (the domain, the server and the
# voice channel) run under the race detector, and only there: the race run is the same tests
# with more checks. The rest run plain: their memory tests measure RSS, which the detector's
# shadow memory would swamp. The MongoDB test engine runs in a process of its own, without the
# detector (mongo/mongotest), so the race run pays for agentdesk's code alone. The timeouts
# leave room for a machine with a CPU hog beside the suite (the server package took 20 minutes
# under the race detector beside stress-ng --cpu 2 and the browser tests).
RACE_PKGS := ./workspace/ ./server/ ./voice/
go-test: go-test-race go-test-plain
go-test-plain: clamav mailtools
	go test -count=1 -timeout 45m $$(go list ./... | grep -v -x -e '.*/agentdesk/workspace' -e '.*/agentdesk/server' -e '.*/agentdesk/voice')
go-test-race: clamav mailtools
	go test -count=1 -timeout 60m -race $(RACE_PKGS)

# Run after `make build` (make test does): the browser tests run bin/agentdesk, and build has
# run the GraphQL codegen and both type checks (tsc) already. Not a prerequisite here: beside
# go-test, a second `npm run build` would empty frontend/dist while Go compiles its embed.
node-test: $(NPM_DEPS) mailtools
	cd frontend && npx eslint .
	cd frontend && npx vitest run && npx vitest run --config webchat/vitest.config.ts
	cd frontend && CHROMIUM=$(CHROMIUM) npm run test:e2e

## chromium: Debian's Chromium for the browser tests, installed when missing.
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
		else echo "chromium is missing and this user cannot install it: run 'apt-get install -y chromium' as root"; exit 1; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

## clamav: Debian's clamd for the malware-scanning tests, installed when missing. The tests start
## their own clamd (clamd/clamdtest) with a custom EICAR signature, offline: nothing may start
## the packaged services. freshclam cannot reach its mirror here, and the daemon's unit does
## nothing without the official databases, so both are stopped and masked where systemd runs,
## and a policy-rc.d keeps the maintainer scripts from starting them where it does not.
clamav:
	@if [ ! -x "$(CLAMD)" ]; then \
		echo "installing Debian's clamav-daemon for the malware-scanning tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
		else echo "clamd is missing and this user cannot install it: run 'make clamav' as root"; exit 1; fi; \
		if [ -d /run/systemd/system ]; then \
			$$SUDO systemctl mask clamav-freshclam.service clamav-daemon.service clamav-daemon.socket >/dev/null 2>&1 || true; fi; \
		policy=; if [ ! -e /usr/sbin/policy-rc.d ]; then policy=/usr/sbin/policy-rc.d; \
			printf '#!/bin/sh\nexit 101\n' | $$SUDO tee $$policy >/dev/null; $$SUDO chmod 755 $$policy; fi; \
		status=0; $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq clamav-daemon >/dev/null || status=$$?; \
		if [ -n "$$policy" ]; then $$SUDO rm -f $$policy; fi; \
		if [ -d /run/systemd/system ]; then \
			$$SUDO systemctl stop clamav-freshclam.service clamav-daemon.service >/dev/null 2>&1 || true; fi; \
		exit $$status; \
	fi

## mailtools: Debian's dovecot (IMAP, for the IMAP poller's tests, which start their own
## dovecot in a temp folder) and swaks (a real SMTP client for the listener's tests), installed
## when missing. The packaged dovecot service is kept from starting, as clamav's is.
DOVECOT  ?= /usr/sbin/dovecot
SWAKS    ?= /usr/bin/swaks
mailtools:
	@if [ ! -x "$(DOVECOT)" ] || [ ! -x "$(SWAKS)" ]; then \
		echo "installing Debian's dovecot-imapd and swaks for the email tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
		else echo "dovecot or swaks is missing and this user cannot install them: run 'make mailtools' as root"; exit 1; fi; \
		if [ -d /run/systemd/system ]; then $$SUDO systemctl mask dovecot.service dovecot.socket >/dev/null 2>&1 || true; fi; \
		policy=; if [ ! -e /usr/sbin/policy-rc.d ]; then policy=/usr/sbin/policy-rc.d; \
			printf '#!/bin/sh\nexit 101\n' | $$SUDO tee $$policy >/dev/null; $$SUDO chmod 755 $$policy; fi; \
		status=0; $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq dovecot-imapd swaks >/dev/null || status=$$?; \
		if [ -n "$$policy" ]; then $$SUDO rm -f $$policy; fi; \
		exit $$status; \
	fi

## bench: the benchmarks in bench/, printing figures and ratios against floors measured in the same run.
bench:
	go test ./bench -run '^$$' -bench . -benchtime 1x -timeout 90m

## bench-assist: Agent Assist on Banking77 alone (accuracy, time per suggestion, time to learn).
bench-assist:
	go test ./bench -run '^$$' -bench AssistBanking77 -benchtime 1x -timeout 30m

clean:
	rm -rf bin frontend/node_modules
	cd frontend/dist && find . -mindepth 1 -not -name .gitkeep -delete
