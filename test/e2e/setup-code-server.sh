#!/usr/bin/env bash
# Installs code-server (VS Code served to a browser) from the npm registry into a cache
# folder outside the repo, for the e2e suite in test/e2e. Idempotent: when
# $KEEL_CODE_SERVER_DIR/node_modules/.bin/code-server exists it does nothing.
#
#   KEEL_CODE_SERVER_DIR   where to install (default /opt/keel-ci/code-server)
#   KEEL_CODE_SERVER_VERSION  (default 4.139.1 = VS Code 1.139.1)
#
# Needs Node 24 on PATH (code-server's postinstall refuses anything else) and the headers
# its native modules build against: libkrb5-dev libxkbfile-dev libsecret-1-dev (installed
# here with apt-get when missing and we are root). Takes ~3 minutes and ~620 MB.
set -euo pipefail

DIR="${KEEL_CODE_SERVER_DIR:-/opt/keel-ci/code-server}"
VERSION="${KEEL_CODE_SERVER_VERSION:-4.139.1}"
BIN="$DIR/node_modules/.bin/code-server"
# Built from source by code-server's postinstall: present only when that install finished.
SPDLOG="$DIR/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node"
log() { printf '==> setup-code-server: %s\n' "$*"; }

if [ -x "$BIN" ] && [ -f "$SPDLOG" ]; then
  log "already installed: $BIN"
  exit 0
fi

# --- Node 24 -----------------------------------------------------------------------
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" != 24 ]; then
  for d in /opt/keel-ci/node24/package/bin /opt/node24/package/bin; do
    if [ -x "$d/node" ]; then export PATH="$d:$PATH"; break; fi
  done
fi
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)" != 24 ]; then
  echo "setup-code-server: code-server $VERSION needs Node 24 on PATH (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
NODE_PREFIX="$(dirname "$(dirname "$(command -v node)")")"

# --- build headers for the native modules --------------------------------------------
APT_PACKAGES=(libkrb5-dev libxkbfile-dev libsecret-1-dev build-essential python3 pkg-config)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-code-server: missing apt packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- npm install ---------------------------------------------------------------------
# npm 11 skips dependency install scripts unless the project allows them (package.json
# "allowScripts"; --allow-scripts / npm_config_allow_scripts are refused in project
# installs). code-server's postinstall runs `npm install` again inside lib/vscode and
# lib/vscode/extensions, whose package.json files carry their own allowScripts for the
# native modules (node-pty, spdlog, kerberos…), so only the top level needs allowing here.
# node-gyp must use this Node's headers, not a user-level nodedir (e.g. /usr = Node 20).
export npm_config_nodedir="$NODE_PREFIX"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

mkdir -p "$DIR"
cd "$DIR"
cat > package.json <<JSON
{
  "name": "keel-code-server-cache",
  "private": true,
  "allowScripts": { "code-server@$VERSION": true, "argon2": true }
}
JSON
log "npm install code-server@$VERSION into $DIR (node $(node --version), nodedir $NODE_PREFIX) — takes a few minutes"
start=$(date +%s)
npm install --save-exact --foreground-scripts "code-server@$VERSION"

# The postinstall builds native modules from source (spdlog, sqlite3…); when install
# scripts were skipped they are missing and code-server fails at start.
if [ ! -f "$SPDLOG" ]; then
  echo "setup-code-server: native modules were not built ($SPDLOG missing) — install scripts did not run" >&2
  rm -f "$BIN"
  exit 1
fi
"$BIN" --config "$DIR/config.yaml" --version  # --config: leave ~/.config alone
log "done in $(( $(date +%s) - start )) s, $(du -sh "$DIR" | cut -f1)"
