#!/bin/bash
#
# tests/bench/store-growth.sh - does the store slow down as it grows?
#
#   tests/bench/store-growth.sh                  # SENDS=1000000 THREADS=20 N=250
#   SENDS=200000 N=100 tests/bench/store-growth.sh
#
# Builds bench_store (-O2) from the sources and runs `bench_store -g`: an
# empty store is measured first, then a store filled straight with SQL
# with SENDS send records (two recipients each), an event for every tenth
# send and the suppressions of the hard ones. On each, THREADS threads
# record N sends each (fm_store_add_send: the rewrite's cost), an event
# for each of those sends (fm_store_add_events with the default follow-up
# rules: hard suppresses at once, soft runs the threshold count) and ten
# fm_store_is_suppressed() lookups per send (the RCPT-time check). It
# prints both rates, their ratio (grown / empty) and the query plan of
# every statement the milter runs, on the grown store. DIR (default /tmp)
# holds the databases while it runs; they are removed afterwards.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SENDS=${SENDS:-1000000}
THREADS=${THREADS:-20}
N=${N:-250}
DIR=${DIR:-/tmp}
CC=${CC:-gcc}

work=$(mktemp -d "${TMPDIR:-/tmp}/store-growth.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -I"$top/include" \
	-o "$work/bench_store" "$top/tests/bench/bench_store.c" \
	"$top"/milter/store*.c "$top/milter/rules.c" "$top"/milter/config*.c \
	"$top/milter/codec.c" -lsqlite3 -lcrypto -lpthread

echo "# sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || true)," \
	"$(nproc) CPUs, $DIR on $(df -P "$DIR" | awk 'NR == 2 { print $1 }')"
"$work/bench_store" -g "$SENDS" "$THREADS" "$N" "$DIR"
