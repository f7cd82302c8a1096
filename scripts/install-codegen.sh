#!/usr/bin/env bash
# Installs the pinned protoc plugins that code generation and the generator's tests use
# (protoc-gen-prost, -serde and -crate, from crates.io), and buf (npm, via
# interop/setup.sh). Fast when they are already there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
want="protoc-gen-prost v0.5.0|protoc-gen-prost-serde v0.4.0|protoc-gen-prost-crate v0.5.0"
have=$(cargo install --list 2>/dev/null | grep -E '^protoc-gen-prost' || true)
missing=0
IFS='|' read -ra pins <<<"$want"
for p in "${pins[@]}"; do
  grep -qF "$p:" <<<"$have" || missing=1
done
if [[ $missing -eq 1 ]]; then
  echo "scripts/install-codegen.sh: installing protoc-gen-prost 0.5.0, protoc-gen-prost-serde 0.4.0, protoc-gen-prost-crate 0.5.0" >&2
  cargo install --locked --quiet protoc-gen-prost@0.5.0 protoc-gen-prost-serde@0.4.0 protoc-gen-prost-crate@0.5.0
fi
interop/setup.sh >/dev/null
