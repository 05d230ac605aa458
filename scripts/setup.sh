#!/usr/bin/env bash
# setup.sh: install what building and testing mcpwarden needs on Debian 12.
#
# Idempotent and quick when everything is present: each step checks first and
# does nothing when its result is already there. Works as root, or through
# sudo for the system packages when run as another user.
#
#   system packages  apt-get, only those missing (one `apt-get update` first)
#   e2e/npm          npm ci, only when node_modules does not match the lockfile
#   Go modules       go mod download
#   bin/tools        staticcheck at a pinned version
set -euo pipefail

STATICCHECK_VERSION=v0.8.2 # honnef.co/go/tools; v0.8.x is the line that builds with Go 1.26
MIN_NODE_MAJOR=20          # the pinned npm packages declare engines node >= 20

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="/usr/local/go/bin:$PATH:/usr/sbin:/sbin"

step() { printf 'setup: %-14s %s\n' "$1" "$2"; }
die() {
	printf 'setup: FAILED: %s\n' "$*" >&2
	exit 1
}

# require_sudo fails unless sudo can run commands as root without a
# password (non-interactive: CI has no terminal).
require_sudo() {
	command -v sudo >/dev/null ||
		die "not root and sudo is missing: run this script as root to install system packages"
	sudo -n true 2>/dev/null ||
		die "sudo needs a password for $(id -un): run this script as root or set up passwordless sudo"
}

# quiet runs a command with its output kept in a log, shown only on failure,
# so that a run prints one line per step.
quiet() {
	local log rc=0
	log=$(mktemp)
	"$@" >"$log" 2>&1 </dev/null || rc=$?
	if ((rc != 0)); then
		cat "$log" >&2
	fi
	rm -f "$log"
	return "$rc"
}

dpkg_installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

# Each entry is "package probe": the package is installed when the probe
# fails. Commands are probed rather than packages where another package may
# provide the command (pkgconf provides pkg-config on Debian 12).
system_packages() {
	local -a missing=()
	local pkg probe
	while read -r pkg probe; do
		if [[ $probe == lib ]]; then
			dpkg_installed "$pkg" || missing+=("$pkg")
		else
			command -v "$probe" >/dev/null || missing+=("$pkg")
		fi
	done <<-'EOF'
		libseccomp-dev lib
		pkg-config pkg-config
		gcc gcc
		make make
		util-linux setpriv
		util-linux taskset
		iproute2 ip
		bubblewrap bwrap
		hyperfine hyperfine
		postgresql lib
		zsh zsh
		fish fish
		chromium lib
	EOF
	# Node.js and npm are often newer than Debian's: install them only when
	# absent, never over an existing (possibly newer) installation.
	command -v node >/dev/null || missing+=(nodejs)
	command -v npm >/dev/null || missing+=(npm)

	if [[ ${#missing[@]} -eq 0 ]]; then
		step apt "all present"
		return
	fi
	# Deduplicate while keeping order.
	local -A seen=()
	local -a want=()
	for pkg in "${missing[@]}"; do
		[[ -n ${seen[$pkg]:-} ]] || want+=("$pkg")
		seen[$pkg]=1
	done
	step apt "installing ${want[*]}"
	local -a root=()
	if [[ $(id -u) -ne 0 ]]; then
		require_sudo
		root=(sudo -n)
	fi
	quiet "${root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update ||
		die "apt-get update failed"
	quiet "${root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${want[@]}" ||
		die "apt-get install ${want[*]} failed"
}

check_go() {
	command -v go >/dev/null || die "go not found (expected at /usr/local/go/bin/go)"
	step go "$(go version)"
}

check_node() {
	command -v node >/dev/null || die "node not found after installing nodejs"
	command -v npm >/dev/null || die "npm not found after installing npm"
	local version major
	version=$(node --version)
	major=${version#v}
	major=${major%%.*}
	if ((major < MIN_NODE_MAJOR)); then
		die "node $version is older than $MIN_NODE_MAJOR, which the pinned MCP servers in e2e/npm require"
	fi
	step node "node $version, npm $(npm --version 2>/dev/null)"
}

# npm ci wipes and reinstalls node_modules, which takes seconds; a hash of
# the manifest and lockfile recorded after a successful install tells when
# the tree already matches.
npm_packages() {
	local dir=e2e/npm
	local stamp=$dir/node_modules/.mcpwarden-lock-hash
	local want
	want=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)
	if [[ -f $stamp && $(<"$stamp") == "$want" && -f $dir/node_modules/@modelcontextprotocol/sdk/package.json ]]; then
		step npm "e2e/npm up to date"
		return
	fi
	step npm "npm ci in e2e/npm"
	quiet npm ci --prefix "$dir" --no-audit --no-fund ||
		die "npm ci in $dir failed"
	printf '%s\n' "$want" >"$stamp"
}

go_modules() {
	quiet go mod download || die "go mod download failed"
	step go-mod "modules downloaded"
}

staticcheck() {
	local bin=bin/tools/staticcheck
	local info
	info=$(go version -m "$bin" 2>/dev/null || true)
	# Rebuild also when the Go toolchain changed: staticcheck must know the
	# language version of the code it checks.
	if [[ $info == "$bin: $(go env GOVERSION)"* && $info =~ honnef\.co/go/tools[[:space:]]+$STATICCHECK_VERSION ]]; then
		step staticcheck "$STATICCHECK_VERSION present"
		return
	fi
	step staticcheck "installing $STATICCHECK_VERSION into bin/tools"
	quiet env GOBIN="$ROOT/bin/tools" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" ||
		die "go install staticcheck@$STATICCHECK_VERSION failed"
}

system_packages
check_go
check_node
npm_packages
go_modules
staticcheck
step "done" "ok"
