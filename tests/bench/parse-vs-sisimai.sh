#!/usr/bin/env bash
# parse-vs-sisimai.sh - messages per second of fm_report_parse (bench_parse)
# and of Sisimai over the same files, and the ratio.
#
# Usage: parse-vs-sisimai.sh [BENCH_PARSE [DIR]]
#
#   BENCH_PARSE  the bench_parse program (default: ./bench_parse, else
#                tests/bench_parse of a build tree)
#   DIR          message folder (default: $CORPUS_DIR/sisimai/bsd, with
#                CORPUS_DIR defaulting to ../shared/corpus beside the tree)
#
# Sisimai is the Debian package libsisimai-perl (installed here with
# apt-get when missing, as root). It runs as its documentation shows,
#   perl -MSisimai -e 'print Sisimai->dump(shift)' DIR
# three times; the best run counts, both in CPU seconds (user + sys, what
# the comparison uses: other load on the machine changes it least) and in
# wall seconds. bench_parse reports CPU and wall rates itself.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
bench=${1:-}
if [ -z "$bench" ]; then
	for b in ./bench_parse "$top/tests/bench_parse" "$top/build-werror/tests/bench_parse"; do
		if [ -x "$b" ]; then bench=$b; break; fi
	done
fi
corpus=${CORPUS_DIR:-$top/../shared/corpus}
dir=${2:-$corpus/sisimai/bsd}

if [ -z "$bench" ] || [ ! -x "$bench" ]; then
	echo "parse-vs-sisimai: bench_parse not found; build it (make -C tests bench_parse) or name it" >&2
	exit 2
fi
if [ ! -d "$dir" ]; then
	echo "SKIP: corpus not found at $dir"
	exit 77
fi
if ! perl -MSisimai -e 1 2>/dev/null; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "parse-vs-sisimai: Sisimai missing; run as root or apt-get install libsisimai-perl" >&2
		exit 2
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q libsisimai-perl >/dev/null
fi

nmsg=$(find "$dir" -maxdepth 1 -type f | wc -l)
echo "corpus: $dir ($nmsg messages)"
echo "sisimai: $(perl -MSisimai -e 'print $Sisimai::VERSION') (perl $(perl -e 'print $^V'))"

# The best of three runs of Sisimai, as CPU and wall seconds.
best_cpu=""
best_wall=""
TIMEFORMAT='%R %U %S'
for _ in 1 2 3; do
	t=$( { time perl -MSisimai -e 'print Sisimai->dump(shift)' "$dir" >/dev/null; } 2>&1 | tail -n 1)
	read -r wall user sys <<<"$t"
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
	if [ -z "$best_cpu" ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
		best_cpu=$cpu
	fi
	if [ -z "$best_wall" ] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
		best_wall=$wall
	fi
done
sis_cpu=$(awk -v n="$nmsg" -v t="$best_cpu" 'BEGIN { printf "%.0f", n / t }')
sis_wall=$(awk -v n="$nmsg" -v t="$best_wall" 'BEGIN { printf "%.0f", n / t }')

out=$("$bench" -n 20 "$dir")
echo "$out" | sed 's/^/bench_parse: /'
fm_cpu=$(echo "$out" | sed -n 's/.*cpu_rate=\([0-9]*\).*/\1/p')
fm_wall=$(echo "$out" | sed -n 's/.*wall_rate=\([0-9]*\).*/\1/p')
mime=$("$bench" -n 20 -m "$dir" | sed -n 's/.*cpu_rate=\([0-9]*\).*/\1/p')

echo "sisimai:        $sis_cpu msg/s (CPU), $sis_wall msg/s (wall)"
echo "fm_report_parse: $fm_cpu msg/s (CPU), $fm_wall msg/s (wall)"
echo "GMime alone:    $mime msg/s (CPU; the parse step, an upper bound)"
awk -v a="$fm_cpu" -v b="$sis_cpu" -v c="$fm_wall" -v d="$sis_wall" 'BEGIN {
	printf "ratio:          %.1fx (CPU), %.1fx (wall)\n", a / b, c / d }'
