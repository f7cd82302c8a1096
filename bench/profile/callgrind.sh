#!/usr/bin/env bash
# Instructions per call, by peer and by side, with valgrind's callgrind.
#
# For each peer, the server (or the client) runs under callgrind while the other side runs
# natively, once with N1 and once with N2 sequential unary calls (and S1 / S2 streams of 1000
# messages); (Ir(N2) - Ir(N1)) / (N2 - N1) is the cost of one call with start-up, connection
# set-up and warm-up cancelled out. Instruction counts do not depend on the machine's load,
# so this works on a busy machine where timings do not.
#
# Usage: bench/profile/callgrind.sh [peer ...]      (default: all four)
# Env:   N1=500 N2=2500 S1=2 S2=10 OUT=bench/target/callgrind
# Then:  callgrind_annotate --inclusive=yes OUT/<peer>-server-unary-N2.out | less
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --profile profiling --quiet
BIN=target/profiling/connect-plugin-bench
OUT=${OUT:-target/callgrind}
N1=${N1:-500}
N2=${N2:-2500}
S1=${S1:-2}
S2=${S2:-10}
mkdir -p "$OUT"
PEERS=("$@")
[ ${#PEERS[@]} -eq 0 ] && PEERS=(hyper tonic connect-plugin connect-plugin-grpc)

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
    coproc SRV { "$BIN" "${sargs[@]}"; }
  fi
  local line addr
  read -r line <&"${SRV[0]}"
  addr=${line#listening on }
  if [ "$side" = client ]; then
    "${vg[@]}" "$BIN" "${cargs[@]}" --addr "$addr" --time-limit-secs 1200 >/dev/null
  else
    "$BIN" "${cargs[@]}" --addr "$addr" --time-limit-secs 1200 >/dev/null
  fi
  local pid=$SRV_PID
  eval "exec ${SRV[1]}>&-"   # EOF on the server's stdin: it exits and callgrind writes its file
  wait "$pid" || true
}

printf '%-20s %-6s %-6s %14s\n' peer side test "Ir per call"
for peer in "${PEERS[@]}"; do
  for side in server client; do
    for test in seq stream; do
      if [ "$test" = seq ]; then a=$N1; b=$N2; unit=1; else a=$S1; b=$S2; unit=1000; fi
      f1="$OUT/$peer-$side-$test-$a.out"; f2="$OUT/$peer-$side-$test-$b.out"
      run_one "$peer" "$side" "$test" "$a" "$f1"
      run_one "$peer" "$side" "$test" "$b" "$f2"
      per=$(( ($(total "$f2") - $(total "$f1")) / ((b - a) * unit) ))
      printf '%-20s %-6s %-6s %14s\n' "$peer" "$side" "$test" "$per"
    done
  done
done
echo "(stream rows are per message; files in $OUT)"
