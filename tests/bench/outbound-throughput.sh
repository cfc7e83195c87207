#!/bin/bash
#
# tests/bench/outbound-throughput.sh - outbound throughput with and without
# feedback-milter (run as root):
#
#   tests/bench/outbound-throughput.sh            # N=2000 C=20 ROUNDS=3
#   N=5000 C=20 SIZE=4096 ROUNDS=5 tests/bench/outbound-throughput.sh
#
# smtp-source sends N messages of SIZE bytes over C parallel sessions into a
# private Postfix on loopback, which relays them to smtp-sink (no dumps). One
# Postfix instance has two smtpd listeners, one without milters and one with
# feedback-milter over a unix socket. The variants:
#
#   bare      no milter
#   milter    feedback-milter; sender alice@example.nl, every message is
#             recorded in the store and rewritten
#   passthru  feedback-milter; sender carol@other.example, not a sender
#             domain: the milter protocol's cost without our own work
#
# They are interleaved, rotating which goes first, after a warm-up run of
# each. A run lasts from the first connection until the queue is empty again
# (every message handed to the sink); the time smtp-source needs to have
# everything accepted is shown too. The closing lines give the median msg/s
# of each variant and its ratio to bare. VARIANTS="bare milter" runs fewer.
#
# tests/bench/milter-throughput.sh compares feedback-milter with a minimal
# reference milter and OpenDKIM, over unix and inet: sockets, and measures
# the milter's memory (MEMORY=1); tests/bench/README has the figures.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

N=${N:-2000}
C=${C:-20}
SIZE=${SIZE:-4096}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-200}
read -r -a VARIANTS <<<"${VARIANTS:-bare milter passthru}"
RCPT=rcpt@remote.example

RUNS=""	# file: variant accept_s total_s

sent_count() { grep -c 'status=sent' "$E2E_DIR/postfix.log" || true; }
rewrite_count() { grep -c ': rewrite code=' "$E2E_DIR/milter.log" || true; }

# run VARIANT COUNT [record] - one smtp-source run; checks every message was
# delivered (and, for the milter variant, rewritten)
run() {
	local variant=$1 n=$2 port sender sent0 rw0 rw t0 t1 t2
	case $variant in
	bare) port=$E2E_BARE_PORT sender=alice@example.nl ;;
	milter) port=$E2E_SMTP_PORT sender=alice@example.nl ;;
	passthru) port=$E2E_SMTP_PORT sender=carol@other.example ;;
	*) e2e_die "unknown variant $variant (bare, milter, passthru)" ;;
	esac
	e2e_queue_empty || e2e_die "queue not empty before a run"
	sent0=$(sent_count)
	rw0=$(rewrite_count)
	t0=$(e2e_now_ms)
	smtp-source -m "$n" -s "$C" -l "$SIZE" -f "$sender" -t "$RCPT" \
		"127.0.0.1:$port" >>"$E2E_DIR/smtp-source.log" 2>&1 ||
		e2e_die "smtp-source failed on the $variant listener (see $E2E_DIR/smtp-source.log)"
	t1=$(e2e_now_ms)
	e2e_wait_until 900 "the queue to drain" e2e_queue_empty
	t2=$(e2e_now_ms)
	# the log may trail the queue by a moment
	delivered() { (($(sent_count) - sent0 >= n)); }
	e2e_wait_until "$E2E_TIMEOUT" "$n deliveries logged" delivered ||
		e2e_die "$variant: only $(($(sent_count) - sent0)) of $n messages delivered"
	rw=$(($(rewrite_count) - rw0))
	case $variant in
	milter) ((rw == n)) || e2e_die "milter: $rw rewrites logged for $n messages" ;;
	*) ((rw == 0)) || e2e_die "$variant: $rw rewrites logged, expected none" ;;
	esac
	if [[ ${3:-} == record ]]; then
		echo "$variant $((t1 - t0)) $((t2 - t0))" >>"$RUNS"
		awk -v v="$variant" -v n="$n" -v a="$((t1 - t0))" -v t="$((t2 - t0))" 'BEGIN {
			printf "  %-8s %6d msgs  accepted in %7.2f s (%6.1f msg/s)  delivered in %7.2f s (%6.1f msg/s)\n",
				v, n, a / 1000, n * 1000 / a, t / 1000, n * 1000 / t }'
	fi
}

main() {
	e2e_ensure_packages
	e2e_require_binaries
	e2e_init
	RUNS=$E2E_DIR/runs
	: >"$RUNS"
	read -r E2E_SMTP_PORT E2E_BARE_PORT E2E_SINK_PORT < <(e2e_free_ports 3)
	e2e_sink_start --no-dump
	e2e_postfix_setup
	e2e_milter_config "SenderDomain example.nl"
	e2e_milter_start
	e2e_postfix_start

	echo "outbound throughput: smtp-source -m $N -s $C -l $SIZE -> Postfix $(postconf -dh mail_version) -> smtp-sink"
	echo "  $(nproc) CPUs; variants: ${VARIANTS[*]}; feedback-milter over a unix socket; $ROUNDS rounds"
	local r i k=${#VARIANTS[@]}
	for ((i = 0; i < k; i++)); do
		run "${VARIANTS[i]}" "$WARMUP"
	done
	for ((r = 0; r < ROUNDS; r++)); do
		echo "round $((r + 1))"
		for ((i = 0; i < k; i++)); do
			run "${VARIANTS[(i + r) % k]}" "$N" record
		done
	done

	awk -v n="$N" -v order="${VARIANTS[*]}" '
		function median(a, k,    i, j, t) {
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
				if (a[i] > a[j]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
		}
		{ c = ++cnt[$1]; acc[$1, c] = n * 1000 / $2; del[$1, c] = n * 1000 / $3 }
		END {
			nv = split(order, vs, " ")
			for (i = 1; i <= nv; i++) {
				v = vs[i]
				for (j = 1; j <= cnt[v]; j++) { x[j] = acc[v, j]; y[j] = del[v, j] }
				ma[v] = median(x, cnt[v]); md[v] = median(y, cnt[v])
			}
			for (i = 1; i <= nv; i++) {
				v = vs[i]
				printf "median %-8s accepted %6.1f msg/s, delivered %6.1f msg/s", v, ma[v], md[v]
				if (v != "bare" && ("bare" in ma))
					printf "   ratio to bare: accepted %.2f, delivered %.2f", ma[v] / ma["bare"], md[v] / md["bare"]
				printf "\n"
			}
		}' "$RUNS"
}

main "$@"
