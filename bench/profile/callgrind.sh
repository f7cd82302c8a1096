#!/usr/bin/env bash
# Instructions per call, by peer and by side, with valgrind's callgrind.
#
# For each peer, the server (or the client) runs under callgrind while the other side runs
# natively, once with N1 and once with N2 sequential unary calls (and S1 / S2 streams of 1000
# messages); (Ir(N2) - Ir(N1)) / (N2 - N1) is the cost of one call with start-up, connection
# set-up and warm-up cancelled out. Instruction counts do not depend on the machine's load,
# so this works on a busy machine where timings do not.
#
# Parking (a thread that finds no work waits in epoll/condvar, through tokio's timer wheel)
# depends on timing, so the seq figures move by a few thousand instructions between builds
# for reasons unrelated to the code measured; the "busy" column leaves the parking out
# (profile/busy.py). The side that runs natively can be pinned to a fixed binary with
# PEER_BIN (e.g. a copy of an earlier build), so a change on one side does not shift the
# other side's timing.
#
# Usage: bench/profile/callgrind.sh [peer ...]      (default: all five)
# Env:   N1=500 N2=2500 S1=2 S2=10 OUT=bench/target/callgrind PEER_BIN=(this build)
#        BIN=(a prebuilt binary to measure instead of building the profiling profile)
#        REPS=1 (repeat each pair and print the median: the client's seq figure moves by
#        about ±1k between runs, the server's by well under 100) SIDES="server client"
#        TESTS="seq stream"
# Then:  callgrind_annotate --inclusive=yes OUT/<peer>-server-seq-N2.out | less
#        profile/diff.py BEFORE_OUT AFTER_OUT <peer> server|client [--test stream]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then
  cargo build --profile profiling --quiet
  BIN=target/profiling/connect-plugin-bench
fi
PEER_BIN=${PEER_BIN:-$BIN}
OUT=${OUT:-target/callgrind}
N1=${N1:-500}
N2=${N2:-2500}
S1=${S1:-2}
S2=${S2:-10}
REPS=${REPS:-1}
mkdir -p "$OUT"
PEERS=("$@")
[ ${#PEERS[@]} -eq 0 ] && PEERS=(hyper tonic connect-plugin connect-plugin-grpc reqwest-connect)

total() { grep -E '^(summary|totals):' "$1" | head -1 | awk '{print $2}'; }

# run_pair PEER SIDE(server|client) TEST(seq|stream) COUNT OUTFILE
run_one() {
  local peer=$1 side=$2 test=$3 count=$4 out=$5
  local vg=(valgrind --tool=callgrind --callgrind-out-file="$out" --quiet)
  local sargs=(server --peer "$peer" --exit-on-eof)
  local cargs=(client --peer "$peer" --test "$test")
  if [ "$test" = seq ]; then cargs+=(--seq-warmup 0 --seq-calls "$count"); else cargs+=(--stream-warmup 0 --streams "$count"); fi
  if [ "$side" = server ]; then
    coproc SRV { "${vg[@]}" "$BIN" "${sargs[@]}"; }
  else
    coproc SRV { "$PEER_BIN" "${sargs[@]}"; }
  fi
  local line addr
  read -r line <&"${SRV[0]}"
  addr=${line#listening on }
  if [ "$side" = client ]; then
    "${vg[@]}" "$BIN" "${cargs[@]}" --addr "$addr" --time-limit-secs 1200 >/dev/null
  else
    "$PEER_BIN" "${cargs[@]}" --addr "$addr" --time-limit-secs 1200 >/dev/null
  fi
  local pid=$SRV_PID
  eval "exec ${SRV[1]}>&-"   # EOF on the server's stdin: it exits and callgrind writes its file
  wait "$pid" || true
}

busy() { python3 "$(dirname "$0")/busy.py" "$1"; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '%-20s %-6s %-6s %14s %14s\n' peer side test "Ir per call" "busy per call"
for peer in "${PEERS[@]}"; do
  for side in ${SIDES:-server client}; do
    for test in ${TESTS:-seq stream}; do
      if [ "$test" = seq ]; then a=$N1; b=$N2; unit=1; else a=$S1; b=$S2; unit=1000; fi
      f1="$OUT/$peer-$side-$test-$a.out"; f2="$OUT/$peer-$side-$test-$b.out"
      pers=(); bpers=()
      for _ in $(seq "$REPS"); do
        run_one "$peer" "$side" "$test" "$a" "$f1"
        run_one "$peer" "$side" "$test" "$b" "$f2"
        pers+=($(( ($(total "$f2") - $(total "$f1")) / ((b - a) * unit) )))
        bpers+=($(( ($(busy "$f2") - $(busy "$f1")) / ((b - a) * unit) )))
      done
      printf '%-20s %-6s %-6s %14s %14s' "$peer" "$side" "$test" "$(median "${pers[@]}")" "$(median "${bpers[@]}")"
      [ "$REPS" -gt 1 ] && printf '   (runs: %s / %s)' "${pers[*]}" "${bpers[*]}"
      printf '\n'
    done
  done
done
echo "(stream rows are per message; files in $OUT)"
