#!/usr/bin/env bash
# Regenerates every checked-in generated file with `buf generate` and local plugins only:
#   buf.gen.yaml               -> runtime/src/gen   (the plugin protocol, proto/)
#   examples/echo/buf.gen.yaml -> examples/echo/src/gen
#   examples/kv/buf.gen.yaml   -> examples/kv/src/gen
# The test protoc-gen-connect-plugin/tests/checked_in.rs fails when these are stale.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-codegen.sh
cargo build --quiet -p protoc-gen-connect-plugin
export PATH="$PWD/target/debug:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
buf="$PWD/interop/node/node_modules/.bin/buf"
for dir in . examples/echo examples/kv; do
  out=$(sed -n 's/^ *out: *//p' "$dir/buf.gen.yaml" | head -n 1)
  rm -rf "${dir:?}/$out"
  (cd "$dir" && "$buf" generate)
  echo "generated $dir/$out"
done
