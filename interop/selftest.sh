#!/usr/bin/env bash
# Checks the interop peers against each other, so their suites are known-good
# independently of our own code: each client suite (connect-es, connectrpc
# for Python) against each peer server, for every protocol × codec × HTTP
# version that applies.
#
# Usage: interop/selftest.sh    (after interop/setup.sh)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
[[ -d node/node_modules && -x python/.venv/bin/python ]] \
  || { echo "interop/selftest.sh: run interop/setup.sh first" >&2; exit 1; }

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME CMD... : starts a server, waits for its listening lines.
start() {
  local name="$1"; shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
  pids+=("$!")
  for _ in $(seq 100); do
    grep -q "listening on" "$tmp/$name.out" 2>/dev/null && { sleep 0.1; return 0; }
    sleep 0.1
  done
  echo "$name did not start:" >&2; cat "$tmp/$name.err" >&2; exit 1
}
port_of() { # port_of NAME [LABEL]
  grep "listening on" "$tmp/$1.out" | grep -- "${2:-}" | head -n1 | sed -E 's#.*127\.0\.0\.1:([0-9]+).*#\1#'
}

start node-server node node/server.mjs
start python-server python/.venv/bin/python python/server.py
node_h1="$(port_of node-server '(http1)')"
node_h2="$(port_of node-server '(h2c)')"
py="$(port_of python-server)"

failed=0
runs=0
# suite CLIENT-LABEL SERVER-LABEL H1PORT H2PORT CMD...
suite() {
  local client="$1" server="$2" h1="$3" h2="$4"; shift 4
  for protocol in connect grpc grpcweb; do
    for codec in proto json; do
      for http in 1.1 2; do
        [[ $protocol == grpc && $http == 1.1 ]] && continue
        local port=$h2; [[ $http == 1.1 ]] && port=$h1
        local label="$client → $server ($protocol, $codec, HTTP/$http)"
        runs=$((runs + 1))
        if out="$(timeout 300 "$@" --url "http://127.0.0.1:$port" --protocol "$protocol" \
          --codec "$codec" --http "$http" 2>&1)"; then
          echo "ok   $label: $(tail -n1 <<<"$out")"
        else
          failed=$((failed + 1))
          echo "FAIL $label"
          sed 's/^/     /' <<<"$out"
        fi
      done
    done
  done
}

suite connect-es connect-es "$node_h1" "$node_h2" node node/client.mjs
suite connectrpc-python connect-es "$node_h1" "$node_h2" python/.venv/bin/python python/client.py
suite connect-es connectrpc-python "$py" "$py" node node/client.mjs
suite connectrpc-python connectrpc-python "$py" "$py" python/.venv/bin/python python/client.py

echo "selftest: $((runs - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
