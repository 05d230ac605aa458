# mcpwarden: build, check and test targets. Run `make setup` once on a new
# machine (Debian 12 with Go at /usr/local/go); `make test` runs it anyway.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
# Steps depend on each other's side effects (setup installs what build
# needs), so targets never run in parallel.
.NOTPARALLEL:

export PATH := /usr/local/go/bin:$(PATH)
export CGO_ENABLED := 1

GO ?= go
FUZZTIME ?= 10s
BIN := bin/mcpwarden
INIT_BIN := bin/mcpwarden-init

.PHONY: build setup check-code test test-unprivileged fuzz bench demo docs clean

# The sandbox's init stage is a small executable of its own, installed
# beside mcpwarden (install both); mcpwarden records its build ID and starts
# it only when the two come from the same build. It is built without cgo
# (it loads the seccomp filter mcpwarden compiles and needs no libseccomp),
# so it is static and starts without the dynamic loader.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(INIT_BIN) ./cmd/mcpwarden-init
	$(GO) build -trimpath -ldflags "-X main.initBuildID=$$($(GO) tool buildid $(INIT_BIN))" -o $(BIN) ./cmd/mcpwarden

setup:
	bash scripts/setup.sh

GO_FILES = $(shell find . \( -path ./.git -o -path ./bin -o -path ./e2e/npm/node_modules \) -prune -o -name '*.go' -print)

check-code:
	@unformatted=$$(gofmt -l $(GO_FILES) </dev/null); \
	if [[ -n $$unformatted ]]; then echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	@echo "gofmt: ok"
	$(GO) vet ./...
	bin/tools/staticcheck ./...

test: setup build check-code
	$(GO) test -race -count=1 ./...
	bash scripts/test-unprivileged.sh
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

test-unprivileged:
	bash scripts/test-unprivileged.sh

fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

bench: setup build
	bash scripts/bench.sh

demo: setup build
	bash scripts/demo.sh

# docs/cli.md and docs/mcpwarden.1 are rendered from the command reference
# in cmd/mcpwarden (help.go and each command's flags); a test there fails
# when the committed files differ from what the code renders.
docs:
	mkdir -p docs
	$(GO) run ./cmd/mcpwarden __gendocs docs

# clean keeps bin/tools and e2e/npm/node_modules, which setup would only
# install again.
clean:
	rm -f $(BIN) $(INIT_BIN) bin/bench.txt
	$(GO) clean -testcache
