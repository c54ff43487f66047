#!/usr/bin/env bash
# bench-condcreate.sh BIN [LOOP_BIN]: the MLLP p99 of BIN serve under 16 connections
# (radbridge bench mllp --conns 16 --count 20000, after 1,500 orders preloaded), alone and
# while one paced FHIR client (100 requests/s, LOOP_BIN's bench fhir; default BIN) makes
# conditional creates whose If-None-Exist names no identifier. Prints one summary line
# per run: alone, then with the loop. Ports: MLLP_PORT (12575), HTTP_PORT (18080).
set -u
bin=$1 loopbin=${2:-$1}
mp=${MLLP_PORT:-12575} hp=${HTTP_PORT:-18080}
body=$(cd "$(dirname "$0")/.." && pwd)/testdata/fhir/radbridge__servicerequest-bench.json
[ -f "$body" ] || { echo "no $body" >&2; exit 2; }
run() {
  local loop=$1 d srv lp=
  d=$(mktemp -d)
  "$bin" serve --data "$d" --mllp-addr 127.0.0.1:$mp --http-addr 127.0.0.1:$hp >"$d/log" 2>&1 &
  srv=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$hp/healthz" && break; sleep 0.1; done
  "$bin" bench mllp --addr 127.0.0.1:$mp --conns 16 --count 1500 --prefix pre >/dev/null 2>&1
  tok=$d/admin.token; [ -f "$tok" ] || { echo none >"$d/tok"; tok=$d/tok; } # a build without tokens
  if [ "$loop" = 1 ]; then
    "$loopbin" bench fhir --url "http://127.0.0.1:$hp/fhir" --token-file "$tok" --clients 1 --count 100000000 \
      --pause 10ms --if-none-exist 'patient=MRN-NONE' >/dev/null 2>&1 &
    lp=$!
    sleep 0.5
  fi
  echo -n "loop=$loop: "
  "$bin" bench mllp --addr 127.0.0.1:$mp --conns 16 --count 20000 2>&1 | tail -1
  [ -n "$lp" ] && kill "$lp" 2>/dev/null
  kill "$srv"; wait "$srv" 2>/dev/null
  rm -rf "$d"
}
run 0
run 1
