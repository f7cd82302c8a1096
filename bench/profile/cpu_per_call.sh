#!/usr/bin/env bash
# CPU time and context switches per call, natively, by peer and side (perf stat software
# counters: they work on this VM, which has no hardware counters). CPU per call is what bounds
# conc64 on 2 cores shared by client and server; context switches per call hint at wake-ups.
#
# Usage: bench/profile/cpu_per_call.sh [peer ...]    Env: TESTS="seq conc64" SEQ=20000 SECS=3
#        BIN=(a prebuilt binary instead of the release build)
# The user/sys columns split the CPU time: much of it is the kernel's (loopback TCP, epoll,
# futex wake-ups), which fewer user-space instructions do not reduce.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/connect-plugin-bench
fi
SEQ=${SEQ:-20000}
SECS=${SECS:-3}
TESTS=${TESTS:-seq conc64}
PEERS=("$@")
[ ${#PEERS[@]} -eq 0 ] && PEERS=(hyper tonic connect-plugin connect-plugin-grpc reqwest-connect)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Plain `perf stat` output (the -x CSV form leaves out the user/sys split).
val() { awk -v ev="$2" '$0 ~ ev { gsub(",", "", $1); print $1; exit }' "$1"; }
secs() { awk -v what="$2" '$2 == "seconds" && $3 == what { print $1 }' "$1"; }

printf '%-20s %-7s %8s %12s %12s %10s %10s %9s %9s %9s %9s\n' peer test calls srv_cpu_us cli_cpu_us srv_cs cli_cs srv_usr srv_sys cli_usr cli_sys
for peer in "${PEERS[@]}"; do
  for test in $TESTS; do
    coproc SRV { perf stat -e task-clock,context-switches -o "$tmp/srv" "$BIN" server --peer "$peer" --exit-on-eof; }
    read -r line <&"${SRV[0]}"
    addr=${line#listening on }
    json=$(perf stat -e task-clock,context-switches -o "$tmp/cli" "$BIN" client --peer "$peer" --addr "$addr" \
      --test "$test" --seq-warmup 0 --seq-calls "$SEQ" --conc-warmup-secs 0 --conc-secs "$SECS")
    pid=$SRV_PID
    eval "exec ${SRV[1]}>&-"
    wait "$pid" || true
    # conc64 counts only calls completed inside the window; with no warm-up that is nearly all.
    calls=$(sed -E 's/.*"count":([0-9]+).*/\1/' <<<"$json")
    awk -v p="$peer" -v t="$test" -v n="$calls" -v sc="$(val "$tmp/srv" task-clock)" -v cc="$(val "$tmp/cli" task-clock)" \
        -v ss="$(val "$tmp/srv" context-switches)" -v cs="$(val "$tmp/cli" context-switches)" \
        -v su="$(secs "$tmp/srv" user)" -v sy="$(secs "$tmp/srv" sys)" -v cu="$(secs "$tmp/cli" user)" -v cy="$(secs "$tmp/cli" sys)" \
        'BEGIN { printf "%-20s %-7s %8d %12.2f %12.2f %10.2f %10.2f %9.2f %9.2f %9.2f %9.2f\n", p, t, n, sc*1000/n, cc*1000/n, ss/n, cs/n, su*1e6/n, sy*1e6/n, cu*1e6/n, cy*1e6/n }'
  done
done
echo "(cpu in µs of task-clock per call, cs = context switches per call, usr/sys in µs per call; whole process lifetimes)"
