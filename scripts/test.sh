#!/usr/bin/env bash
# The whole test suite, as a new user or CI runs it: installs the pinned third-party
# interop peers (connect-es and buf from npm, connectrpc from PyPI) and the protoc plugins
# the generator is tested with (protoc-gen-prost & co. from crates.io), then runs every
# test of the workspace, interop and golden tests included.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
interop/setup.sh
scripts/install-codegen.sh
cargo test --workspace --all-targets "$@"
