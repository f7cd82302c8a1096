#!/usr/bin/env bash
# The whole test suite, as a new user or CI runs it: installs the pinned third-party
# interop peers (connect-es and buf from npm, connectrpc from PyPI) and runs every test of
# the workspace, interop tests included.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
interop/setup.sh
cargo test --workspace --all-targets "$@"
