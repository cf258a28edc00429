#!/usr/bin/env bash
# Installs the real ML tools the real-tools suite runs (test/real-tools) into a Python venv
# outside the repo: torch (CPU), transformers, peft, trl, tensorboard, datasets, accelerate,
# safetensors, and lm-evaluation-harness 0.4.13. Idempotent: a venv that already imports all
# of them at the pinned lm-eval version is left as it is.
#
#   KEEL_REAL_TOOLS_VENV   where the venv lives (default /opt/keel-ci/real-tools-venv)
#   KEEL_REAL_TOOLS_PYTHON the python that makes it (default python3; needs the venv module)
#
# pip uses its own configuration (an index, or a local wheel mirror as on the CI machines).
# `--retries 0` keeps an unreachable index from costing minutes of retries. lm-eval is
# installed with --no-deps plus the few dependencies a local multiple-choice task needs: its
# `evaluate` and `pytablewriter` are not needed (and not on every mirror); without
# pytablewriter the harness writes its results JSON and then fails to print its table
# (test/real-tools/project/evaluate.py says so and carries on). About 2-3 minutes the first time.
set -euo pipefail

VENV="${KEEL_REAL_TOOLS_VENV:-/opt/keel-ci/real-tools-venv}"
PY="${KEEL_REAL_TOOLS_PYTHON:-python3}"
LM_EVAL_VERSION=0.4.13
log() { printf '==> setup-venv: %s\n' "$*"; }

ready() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$LM_EVAL_VERSION" <<'PY' >/dev/null 2>&1
import sys
import accelerate, datasets, peft, safetensors, tensorboard, torch, transformers, trl, yaml  # noqa: F401
from importlib.metadata import version
sys.exit(0 if version("lm_eval") == sys.argv[1] else 1)
PY
}

if ready; then
  log "already installed: $VENV"
  exit 0
fi

if ! "$PY" -m venv --help >/dev/null 2>&1; then
  log "python's venv module is missing; installing python3-venv"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "setup-venv: $PY has no venv module: install python3-venv" >&2
    exit 1
  fi
fi

log "creating $VENV"
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV"
PIP=("$VENV/bin/pip" install --retries 0 --quiet --disable-pip-version-check)
log "installing torch transformers peft trl tensorboard datasets accelerate safetensors"
"${PIP[@]}" torch transformers peft trl tensorboard datasets accelerate safetensors pyyaml
log "installing lm-eval $LM_EVAL_VERSION (no deps) and what a local multiple-choice task needs"
"${PIP[@]}" --no-deps "lm-eval==$LM_EVAL_VERSION"
"${PIP[@]}" sacrebleu scikit-learn dill more-itertools jinja2 zstandard
if ! ready; then
  echo "setup-venv: $VENV was installed but does not import every tool; see pip's output above" >&2
  exit 1
fi
log "ready: $VENV"
