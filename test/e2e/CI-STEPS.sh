# shellcheck shell=bash
# Lines for .ci/run (after Node 24 is on PATH and the apt block, before `npm run setup`):
# what the code-server e2e suite (test/e2e) needs on a fresh machine. Also runs on its own
# from the repo root: `bash test/e2e/CI-STEPS.sh` (as root, with Node 24 on PATH).
set -euo pipefail
type log >/dev/null 2>&1 || log() { printf '\n==> %s\n' "$*"; }

# --- the e2e suite: chromium, and code-server from the npm registry (once per machine) ---
E2E_APT=(chromium libkrb5-dev libxkbfile-dev libsecret-1-dev build-essential python3 pkg-config)
e2e_missing=()
for p in "${E2E_APT[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || e2e_missing+=("$p"); done
if [ "${#e2e_missing[@]}" -gt 0 ]; then
  log "apt-get install ${e2e_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${e2e_missing[@]}" >/dev/null
fi
export KEEL_CODE_SERVER_DIR="${KEEL_CODE_SERVER_DIR:-/opt/keel-ci/code-server}"
log "code-server for the e2e suite in $KEEL_CODE_SERVER_DIR"
bash test/e2e/setup-code-server.sh
