#!/usr/bin/env bash
# Installs the third-party interop peers and generates their code:
#   interop/node    connect-es (npm ci from the committed package-lock.json)
#   interop/python  connectrpc for Python (venv from requirements.txt)
# and runs `buf generate` (local plugins only) on ../shared/interop/proto, the
# contract beside the repository, and on the repository's own protos for the KV
# plugin written in JavaScript (interop/node/kv-plugin.mjs). Idempotent: each step
# is redone only when its inputs changed, so a second run takes well under a second.
#
# Usage: interop/setup.sh [--force]
# Needs: node >= 20 with npm, python3 >= 3.10, and reach of the npm registry
# and PyPI on a first run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

proto="../shared/interop/proto"   # relative to the repository root
stamps="interop/.stamps"
force=0
[[ "${1:-}" == "--force" ]] && force=1

say() { printf 'interop/setup.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v node >/dev/null || die "node not found (need node >= 20)"
command -v npm >/dev/null || die "npm not found"
command -v python3 >/dev/null || die "python3 not found (need python >= 3.10)"
[[ -f "$proto/echo/v1/echo.proto" ]] \
  || die "$root/$proto/echo/v1/echo.proto not found: shared/ must sit beside the repository"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die "python3 is $(python3 --version 2>&1); connectrpc needs >= 3.10"

mkdir -p "$stamps"

# digest FILE... -> one sha256 over the files' contents (and the tool versions).
digest() {
  { cat "$@"; node --version; python3 --version; } | sha256sum | cut -d' ' -f1
}

# up_to_date NAME DIGEST: true when step NAME last ran with these inputs.
up_to_date() {
  [[ $force -eq 0 && -f "$stamps/$1" && "$(cat "$stamps/$1")" == "$2" ]]
}

# --- Node: connect-es, protoc-gen-es, buf -----------------------------------
node_digest="$(digest interop/node/package.json interop/node/package-lock.json)"
if up_to_date node "$node_digest" && [[ -d interop/node/node_modules ]]; then
  :
else
  say "npm ci in interop/node"
  # --ignore-scripts: the only install script is @bufbuild/buf's optional
  # optimisation; its bin/buf wrapper runs the binary from the optional
  # dependency @bufbuild/buf-linux-x64 without it.
  (cd interop/node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
  echo "$node_digest" >"$stamps/node"
fi
buf="interop/node/node_modules/.bin/buf"
[[ -x "$buf" ]] || die "$buf missing after npm ci"

# --- Python: connectrpc, its generators, Hypercorn --------------------------
py_digest="$(digest interop/python/requirements.txt)"
venv="interop/python/.venv"
if up_to_date python "$py_digest" && [[ -x "$venv/bin/python" ]]; then
  :
else
  say "creating $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
    -r interop/python/requirements.txt
  echo "$py_digest" >"$stamps/python"
fi

# --- Generated code ---------------------------------------------------------
gen_digest="$(digest "$proto"/echo/v1/*.proto interop/node/buf.gen.yaml \
  interop/python/buf.gen.yaml "$stamps/node" "$stamps/python")"
if up_to_date gen "$gen_digest" && [[ -f interop/node/gen/echo/v1/echo_pb.js \
  && -f interop/python/gen/echo/v1/echo_connect.py ]]; then
  :
else
  say "buf generate ($proto)"
  "$buf" generate "$proto" --template interop/node/buf.gen.yaml
  "$buf" generate "$proto" --template interop/python/buf.gen.yaml
  echo "$gen_digest" >"$stamps/gen"
fi

# --- Generated code of the JavaScript KV plugin -----------------------------
# kv.v1 (examples/kv/proto), connectplugin.v1 and grpc.health.v1 (proto/) into
# interop/node/gen/plugin, for interop/node/kv-plugin.mjs and
# examples/kv/tests/polyglot.rs. After the step above: its `clean` empties
# interop/node/gen, so this one also reruns whenever that one did.
plugin_digest="$(digest examples/kv/proto/kv/v1/*.proto proto/connectplugin/v1/*.proto \
  proto/grpc/health/v1/*.proto buf.yaml examples/kv/buf.yaml \
  interop/node/buf.gen.plugin.yaml "$stamps/node" "$stamps/gen")"
if up_to_date plugin "$plugin_digest" && [[ -f interop/node/gen/plugin/kv/v1/kv_pb.js \
  && -f interop/node/gen/plugin/connectplugin/v1/handshake_pb.js ]]; then
  :
else
  say "buf generate (the JavaScript KV plugin: examples/kv/proto, proto)"
  "$buf" generate --template interop/node/buf.gen.plugin.yaml
  echo "$plugin_digest" >"$stamps/plugin"
fi

say "ready (node $(node --version), $("$venv/bin/python" --version), buf $("$buf" --version))"
