#!/usr/bin/env bash
# The whole test suite, as a new user or CI runs it: installs the pinned third-party
# interop peers (connect-es and buf from npm, connectrpc from PyPI) and the protoc plugins
# the generator is tested with (protoc-gen-prost & co. from crates.io), then runs every
# test of the workspace, interop, golden and fault-injection tests included.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
interop/setup.sh
scripts/install-codegen.sh
# The partition tests build network namespaces with `ip` (iproute2); as root, install it if
# missing (without root the tests skip and say why).
if ! command -v ip >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
fi
cargo test --workspace --all-targets "$@"
# The examples in the documentation compile (and run where they can).
cargo test --workspace --doc "$@"
