#!/bin/bash
#
# tests/bench/milter-throughput.sh - feedback-milter against bare Postfix, a
# minimal reference milter and OpenDKIM, over unix and inet: sockets (run as
# root):
#
#   tests/bench/milter-throughput.sh                  # N=3000 C=20 ROUNDS=3
#   N=5000 ROUNDS=5 tests/bench/milter-throughput.sh
#   VARIANTS="bare fm-unix fm-inet" tests/bench/milter-throughput.sh
#   MEMORY=1 tests/bench/milter-throughput.sh         # memory mode, see below
#
# smtp-source -m N -s C -l SIZE sends into a private Postfix on loopback
# (tests/e2e/lib.sh), which relays to smtp-sink (no dumps). One Postfix
# instance has one smtpd listener per variant, each with its own
# smtpd_milters:
#
#   bare          no milter
#   ref-unix      tests/bench/refmilter.c (smfi_chgfrom at end-of-message,
#                 every other step negotiated away), unix socket
#   refs-unix     the reference milter with feedback-milter's protocol steps
#                 (refmilter -s: HELO, MAIL, headers and body without a
#                 reply, RCPT with one) doing nothing in them, unix socket
#   dkim-unix     OpenDKIM signing mail from example.nl, unix socket
#   fm-unix       feedback-milter outbound (SenderDomain example.nl: every
#                 message recorded and its sender rewritten), unix socket
#   fm-inet       the same over inet: loopback (TCP_NODELAY and, after
#                 each reply, TCP_QUICKACK set by milter/sockopt.c)
#   ref-inet      the reference milter over inet: loopback (linked with
#                 milter/sockopt.c: the same options)
#   fm-inet-nd    feedback-milter over inet: with FM_NO_NODELAY=1, i.e.
#                 without TCP_NODELAY
#   fm-inet-nq    feedback-milter over inet: with FM_NO_QUICKACK=1, i.e.
#                 without TCP_QUICKACK
#   ref-inet-nd   the reference milter with FM_NO_NODELAY=1 (not in the
#                 default set)
#   ref-inet-nq   the reference milter with FM_NO_QUICKACK=1 (not in the
#                 default set)
#   bare-dsn      no milter; a DKIM-signed DSN (smtp-source -F) from <> to
#                 a coded address on feedback.example.nl, SIZE octets
#   fm-inbound    the same DSN through feedback-milter (unix socket): code
#                 checked at RCPT, SPF, DKIM verified against NSD on
#                 loopback, parsed, event recorded, then delivered
#                 (InboundAction accept, as bare-dsn is); its ratio is to
#                 bare-dsn of the same round
#
# After a warm-up run of each, every round runs each variant once, the order
# rotating from round to round. A run lasts from the first connection until
# the queue is empty again (every message handed to the sink). Each run's
# msg/s is divided by that round's bare run (paired ratio); the table shows
# the medians over the rounds. Every message of an fm-* variant must have
# been rewritten. Beside the rates, each run reports the CPU time it took per
# message: "CPU ms" for the whole machine (user, system and interrupt time
# of every process and of the kernel; idle, I/O wait and steal time left
# out), "milter ms" for the variant's milter process alone. On a machine
# whose cores are saturated, these say where a difference in rate comes
# from, and they vary less from run to run than the rates do.
#
# MEMORY=1: instead, feedback-milter over the unix socket gets MEM_BURST
# messages (default 3000) over 100 concurrent sessions (MEM_C), then as many
# messages as fit in MEM_SECONDS (default 300; MEM_MAX caps them at 100000)
# over C sessions in batches of MEM_BATCH; VmRSS and VmHWM of the milter are
# read from /proc/PID/status before, during (every second) and after.
#
# The milter inherits the environment: FM_NO_KEYCACHE=1 measures fm-inbound
# without the DKIM key cache (milter/keycache.c).
#
# Environment besides lib.sh's: N C SIZE ROUNDS WARMUP VARIANTS MEMORY
# MEM_BURST MEM_C MEM_SECONDS MEM_MAX MEM_BATCH, DB_CACHE (the milter's
# DatabaseCache, e.g. 8M: its page cache fills sooner), REFMILTER (a built
# reference milter; by default it is compiled here with cc and -lmilter).
# OpenDKIM (package opendkim, opendkim-tools) is installed when missing,
# with a policy-rc.d that keeps its service from starting.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

N=${N:-3000}
C=${C:-20}
SIZE=${SIZE:-4096}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-200}
MEMORY=${MEMORY:-0}
MEM_BURST=${MEM_BURST:-3000}
MEM_C=${MEM_C:-100}
MEM_SECONDS=${MEM_SECONDS:-300}
MEM_MAX=${MEM_MAX:-100000}
MEM_BATCH=${MEM_BATCH:-5000}
read -r -a VARIANTS <<<"${VARIANTS:-bare ref-unix refs-unix dkim-unix fm-unix fm-inet ref-inet fm-inet-nd fm-inet-nq bare-dsn fm-inbound}"
SENDER=alice@example.nl
RCPT=rcpt@remote.example
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

RUNS=""			# file: round variant accept_ms total_ms
declare -A PORT		# variant -> smtpd port
declare -A MLOG		# fm-* variant -> its milter log
declare -A MLINE	# fm-* variant -> the log line each message makes
FB=feedback.example.nl
DSN_FILE=""		# the DSN the inbound variants send
DSN_RCPT=""		# its coded recipient
FM_INET_PORT="" FM_ND_PORT="" REF_INET_PORT="" REF_ND_PORT=""

# ---------------------------------------------------------------------------
# Setup

# ensure_opendkim - install opendkim and opendkim-tools without starting the
# service (policy-rc.d exits 101 during the installation)
ensure_opendkim() {
	local missing policy=/usr/sbin/policy-rc.d own=0
	missing=$(e2e_missing_packages opendkim opendkim-tools)
	[[ -n $missing ]] || return 0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		own=1
	fi
	# shellcheck disable=SC2086
	e2e_install $missing || { ((own)) && rm -f "$policy"; e2e_die "cannot install $missing"; }
	((own)) && rm -f "$policy"
	return 0
}

# build_refmilter - compile tests/bench/refmilter.c (with milter/sockopt.c
# when it exists, for TCP_NODELAY over inet:)
build_refmilter() {
	local extra=()
	if [[ -n ${REFMILTER:-} ]]; then
		[[ -x $REFMILTER ]] || e2e_die "REFMILTER=$REFMILTER is not executable"
		return 0
	fi
	REFMILTER=$E2E_DIR/refmilter
	[[ -f $E2E_TOP/milter/sockopt.c ]] && extra=("$E2E_TOP/milter/sockopt.c")
	cc -O2 -pthread -I"$FM_BUILD_DIR" -I"$E2E_TOP/include" -o "$REFMILTER" \
		"$BENCH_DIR/refmilter.c" "${extra[@]}" -lmilter >"$E2E_DIR/refmilter-build.log" 2>&1 ||
		e2e_die "cannot build refmilter: $(tail -n 5 "$E2E_DIR/refmilter-build.log")"
}

# start_bg NAME LOG CMD... - start a milter in the background as recorded NAME
start_bg() {
	local name=$1 log=$2
	shift 2
	"$@" >>"$log" 2>&1 &
	e2e_pid_save "$name" $!
}

# wait_socket NAME SOCKET - wait for unix:PATH or inet:PORT@HOST to listen
wait_socket() {
	local name=$1 sock=$2 pid
	pid=$(e2e_pid_read "$name")
	ready() {
		e2e_pid_alive "$pid" || return 0
		case $sock in
		unix:*) [[ -S ${sock#unix:} ]] ;;
		inet:*) sock_port=${sock#inet:} && e2e_port_open "${sock_port%@*}" ;;
		esac
	}
	if ! e2e_wait_until "$E2E_TIMEOUT" "$name on $sock" ready || ! e2e_pid_alive "$pid"; then
		e2e_die "$name did not start (see $E2E_DIR/*.log)"
	fi
}

# fm_instance NAME SOCKET [env...] - another feedback-milter process with
# the same key, its own socket, PID file, database and log
fm_instance() {
	local name=$1 sock=$2 conf
	shift 2
	conf=$E2E_DIR/$name.conf
	sed -e "s|^Socket .*|Socket $sock|" \
		-e "s|^PidFile .*|PidFile $E2E_DIR/run/$name.pid|" \
		-e "s|^Database .*|Database $E2E_DIR/db/$name.db|" \
		"$E2E_MILTER_CONF" >"$conf"
	start_bg "$name" "$E2E_DIR/$name.log" env "$@" "$FEEDBACK_MILTER" -c "$conf" -f
	wait_socket "$name" "$sock"
}

# opendkim_start - key, configuration, then opendkim in the foreground
opendkim_start() {
	local d=$E2E_DIR/dkim
	mkdir -p "$d"
	opendkim-genkey -b 2048 -d example.nl -s bench -D "$d" >>"$E2E_DIR/opendkim.log" 2>&1 ||
		e2e_die "opendkim-genkey failed"
	chown -R postfix:postfix "$d"
	chmod 0700 "$d"
	cat >"$d/opendkim.conf" <<-EOF
		Syslog no
		Mode s
		Domain example.nl
		Selector bench
		KeyFile $d/bench.private
		Socket local:$E2E_DIR/run/opendkim.sock
		UMask 007
		UserID postfix
		PidFile $E2E_DIR/run/opendkim.pid
		Canonicalization relaxed/relaxed
		SignatureAlgorithm rsa-sha256
		InternalHosts 127.0.0.1
		# the work directory lies under the world-writable /tmp
		RequireSafeKeys no
	EOF
	rm -f "$E2E_DIR/run/opendkim.sock"
	start_bg opendkim "$E2E_DIR/opendkim.log" opendkim -f -x "$d/opendkim.conf"
	wait_socket opendkim "unix:$E2E_DIR/run/opendkim.sock"
}

# postfix_listeners - a milter definition per variant in main.cf, an smtpd
# listener per variant in master.cf
postfix_listeners() {
	local v ports i=0 m
	read -r -a ports < <(e2e_free_ports 11)
	cat >>"$E2E_PF/main.cf" <<-EOF
		default_process_limit = 250
		bench_ref_unix = { unix:$E2E_DIR/run/ref.sock, default_action=tempfail }
		bench_refs_unix = { unix:$E2E_DIR/run/refs.sock, default_action=tempfail }
		bench_ref_inet = { inet:127.0.0.1:$REF_INET_PORT, default_action=tempfail }
		bench_ref_inet_nd = { inet:127.0.0.1:$REF_ND_PORT, default_action=tempfail }
		bench_dkim_unix = { unix:$E2E_DIR/run/opendkim.sock, default_action=tempfail }
		bench_fm_unix = { unix:$E2E_MILTER_SOCK, default_action=tempfail }
		bench_fm_inet = { inet:127.0.0.1:$FM_INET_PORT, default_action=tempfail }
		bench_fm_inet_nd = { inet:127.0.0.1:$FM_ND_PORT, default_action=tempfail }
		bench_fm_inet_nq = { inet:127.0.0.1:$FM_NQ_PORT, default_action=tempfail }
		bench_ref_inet_nq = { inet:127.0.0.1:$REF_NQ_PORT, default_action=tempfail }
	EOF
	PORT[bare]=$E2E_BARE_PORT
	PORT[fm-unix]=$E2E_SMTP_PORT
	for v in ref-unix refs-unix ref-inet ref-inet-nd dkim-unix fm-inet fm-inet-nd fm-inet-nq ref-inet-nq; do
		PORT[$v]=${ports[i++]}
		m=bench_${v//-/_}
		echo "127.0.0.1:${PORT[$v]} inet n - n - - smtpd -o smtpd_milters=\$$m -o syslog_name=postfix-$v" \
			>>"$E2E_PF/master.cf"
	done
}

# want_inbound - an inbound variant is selected
want_inbound() { [[ " ${VARIANTS[*]} " == *" bare-dsn "* || " ${VARIANTS[*]} " == *" fm-inbound "* ]]; }

# inbound_dns - NSD on loopback with the test zones and a DKIM key for
# remote.example (selector bench); sets DKIM_KEY
inbound_dns() {
	local z zones=()
	e2e_ensure_dkimsign
	mkdir -p "$E2E_DIR/zones"
	cp "$E2E_TOP"/tests/dns/zones/*.zone "$E2E_DIR/zones/"
	DKIM_KEY=$(e2e_dkim_key remote.example bench "$E2E_DIR/zones/remote.example.zone")
	for z in "$E2E_DIR"/zones/*.zone; do
		zones+=("$z")
	done
	e2e_dns_start "${zones[@]}"
}

# inbound_dsn - one outbound message for a code, then the DSN file: a
# multipart/report for rcpt@remote.example with the returned message
# padded to about SIZE octets, DKIM-signed by remote.example, LF line ends
# (smtp-source -F sends each line with CRLF)
inbound_dsn() {
	local code raw=$E2E_DIR/dsn.raw signed=$E2E_DIR/dsn.signed pad i
	smtp-source -m 1 -s 1 -l 100 -f "$SENDER" -t "$RCPT" "127.0.0.1:${PORT[fm-unix]}" \
		>>"$E2E_DIR/smtp-source.log" 2>&1 || e2e_die "smtp-source (code) failed"
	got_code() { grep -q ': rewrite code=' "$E2E_DIR/milter.log"; }
	e2e_wait_until "$E2E_TIMEOUT" "a code" got_code || e2e_die "no code for the DSN"
	code=$(sed -n 's/^.*: rewrite code=\([0-9a-z]*\) .*/\1/p' "$E2E_DIR/milter.log" | head -n 1)
	DSN_RCPT=$code@$FB
	pad=$((SIZE > 1500 ? (SIZE - 1500) / 77 : 1))
	{
		printf 'From: MAILER-DAEMON@remote.example\nTo: %s\n' "$DSN_RCPT"
		printf 'Subject: Undelivered Mail Returned to Sender\nDate: %s\n' "$(date -R)"
		printf 'Message-ID: <bench-dsn@mx.remote.example>\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="B0"\n\n'
		printf -- '--B0\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n'
		printf -- '--B0\nContent-Type: message/delivery-status\n\n'
		printf 'Reporting-MTA: dns; mx.remote.example\n\n'
		printf 'Final-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\n' "$RCPT"
		printf 'Diagnostic-Code: smtp; 550 5.1.1 <%s>: Recipient address rejected\n\n' "$RCPT"
		printf -- '--B0\nContent-Type: message/rfc822\n\n'
		printf 'From: %s\nTo: %s\nSubject: bench\nMessage-ID: <bench@example.nl>\n\n' \
			"$SENDER" "$RCPT"
		for ((i = 0; i < pad; i++)); do
			printf '%076d\n' "$i"
		done
		printf -- '--B0--\n'
	} >"$raw"
	e2e_dkim_sign remote.example bench "$DKIM_KEY" "$raw" "$signed" ||
		e2e_die "dkimsign failed"
	tr -d '\r' <"$signed" >"$E2E_DIR/dsn.eml"
	DSN_FILE=$E2E_DIR/dsn.eml
}

setup() {
	e2e_ensure_packages
	e2e_require_binaries
	if [[ $MEMORY != 1 ]] && [[ " ${VARIANTS[*]} " == *" dkim-unix "* ]]; then
		ensure_opendkim
	fi
	e2e_init
	RUNS=$E2E_DIR/runs
	: >"$RUNS"
	read -r E2E_SMTP_PORT E2E_BARE_PORT E2E_SINK_PORT FM_INET_PORT FM_ND_PORT \
		REF_INET_PORT REF_ND_PORT FM_NQ_PORT REF_NQ_PORT < <(e2e_free_ports 9)
	nm -D "$FEEDBACK_MILTER" 2>/dev/null | awk '$2 == "T" && $3 == "accept" { f = 1 } END { exit !f }' ||
		e2e_note "warning: $FEEDBACK_MILTER has no accept() of its own (milter/sockopt.c not linked): no TCP_NODELAY over inet:"
	e2e_sink_start --no-dump
	e2e_postfix_setup
	postfix_listeners
	local extra=()
	if [[ $MEMORY != 1 ]] && want_inbound; then
		inbound_dns
		extra=("Nameservers 127.0.0.1@$E2E_DNS_PORT" "InboundAction accept")
		e2e_postconf "relay_domains = remote.example, $FB"
	fi
	[[ -n ${DB_CACHE:-} ]] && extra+=("DatabaseCache $DB_CACHE")
	e2e_milter_config "SenderDomain example.nl" "${extra[@]}"
	e2e_milter_start
	MLOG[fm-unix]=$E2E_DIR/milter.log
	MLINE[fm-unix]=": rewrite code="
	MLINE[fm-inet]=": rewrite code="
	MLINE[fm-inet-nd]=": rewrite code="
	if [[ $MEMORY == 1 ]]; then
		e2e_postfix_start
		return 0
	fi
	local v
	for v in "${VARIANTS[@]}"; do
		case $v in
		bare | fm-unix | bare-dsn) ;;
		fm-inbound)
			MLOG[fm-inbound]=$E2E_DIR/milter.log
			MLINE[fm-inbound]=": bounce code="
			;;
		ref-unix)
			build_refmilter
			start_bg ref-unix "$E2E_DIR/ref-unix.log" "$REFMILTER" "unix:$E2E_DIR/run/ref.sock"
			wait_socket ref-unix "unix:$E2E_DIR/run/ref.sock"
			chown postfix "$E2E_DIR/run/ref.sock"
			;;
		refs-unix)
			build_refmilter
			start_bg refs-unix "$E2E_DIR/refs-unix.log" "$REFMILTER" -s "unix:$E2E_DIR/run/refs.sock"
			wait_socket refs-unix "unix:$E2E_DIR/run/refs.sock"
			chown postfix "$E2E_DIR/run/refs.sock"
			;;
		ref-inet)
			build_refmilter
			start_bg ref-inet "$E2E_DIR/ref-inet.log" "$REFMILTER" "inet:$REF_INET_PORT@127.0.0.1"
			wait_socket ref-inet "inet:$REF_INET_PORT@127.0.0.1"
			;;
		ref-inet-nd)
			build_refmilter
			start_bg ref-inet-nd "$E2E_DIR/ref-inet-nd.log" env FM_NO_NODELAY=1 \
				"$REFMILTER" "inet:$REF_ND_PORT@127.0.0.1"
			wait_socket ref-inet-nd "inet:$REF_ND_PORT@127.0.0.1"
			;;
		dkim-unix) opendkim_start ;;
		fm-inet)
			fm_instance fm-inet "inet:$FM_INET_PORT@127.0.0.1"
			MLOG[fm-inet]=$E2E_DIR/fm-inet.log
			;;
		fm-inet-nq)
			fm_instance fm-inet-nq "inet:$FM_NQ_PORT@127.0.0.1" FM_NO_QUICKACK=1
			MLOG[fm-inet-nq]=$E2E_DIR/fm-inet-nq.log
			MLINE[fm-inet-nq]=": rewrite code="
			;;
		ref-inet-nq)
			build_refmilter
			start_bg ref-inet-nq "$E2E_DIR/ref-inet-nq.log" env FM_NO_QUICKACK=1 \
				"$REFMILTER" "inet:$REF_NQ_PORT@127.0.0.1"
			wait_socket ref-inet-nq "inet:$REF_NQ_PORT@127.0.0.1"
			;;
		fm-inet-nd)
			fm_instance fm-inet-nd "inet:$FM_ND_PORT@127.0.0.1" FM_NO_NODELAY=1
			MLOG[fm-inet-nd]=$E2E_DIR/fm-inet-nd.log
			;;
		*) e2e_die "unknown variant $v" ;;
		esac
	done
	e2e_postfix_start
	if want_inbound; then
		PORT[bare-dsn]=$E2E_BARE_PORT
		PORT[fm-inbound]=$E2E_SMTP_PORT
		inbound_dsn
	fi
}

# stop_extra - the milters started here (lib.sh stops its own)
stop_extra() {
	local name
	for name in ref-unix refs-unix ref-inet ref-inet-nd opendkim fm-inet fm-inet-nd fm-inet-nq ref-inet-nq; do
		e2e_stop_pid "$(e2e_pid_read "$name")" "$name" 30
		e2e_pid_forget "$name"
	done
}
E2E_EXIT_HOOK=bench_exit
bench_exit() { stop_extra; }

# ---------------------------------------------------------------------------
# Runs

sent_count() { grep -c 'status=sent' "$E2E_DIR/postfix.log" || true; }
# line_count LOG ERE - how many lines of LOG match
line_count() { grep -c -- "$2" "$1" 2>/dev/null || true; }

# send PORT COUNT SESSIONS [DSN] - smtp-source (with DSN: the DSN file from
# <> to its coded address), then wait for the queue to drain and the
# deliveries to be logged; prints "accept_ms total_ms"
send() {
	local port=$1 n=$2 s=$3 sent0 t0 t1 t2 how
	e2e_queue_empty || e2e_die "queue not empty before a run"
	if [[ -n ${4:-} ]]; then
		how=(-F "$DSN_FILE" -f "" -t "$DSN_RCPT")
	else
		how=(-l "$SIZE" -f "$SENDER" -t "$RCPT")
	fi
	sent0=$(sent_count)
	t0=$(e2e_now_ms)
	smtp-source -m "$n" -s "$s" "${how[@]}" \
		"127.0.0.1:$port" >>"$E2E_DIR/smtp-source.log" 2>&1 ||
		e2e_die "smtp-source failed on port $port (see $E2E_DIR/smtp-source.log)"
	t1=$(e2e_now_ms)
	e2e_wait_until 1800 "the queue to drain" e2e_queue_empty
	t2=$(e2e_now_ms)
	delivered() { (($(sent_count) - sent0 >= n)); }
	e2e_wait_until "$E2E_TIMEOUT" "$n deliveries logged" delivered ||
		e2e_die "port $port: only $(($(sent_count) - sent0)) of $n messages delivered"
	echo "$((t1 - t0)) $((t2 - t0))"
}

# cpu_ticks - busy CPU time of the whole machine so far (user, nice,
# system, irq, softirq; idle, iowait and steal left out), in clock ticks
cpu_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }

# pid_ticks PID - user and system CPU time of a process so far, in ticks
pid_ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }

# milter_pid VARIANT - the PID of the variant's milter, if it has one
milter_pid() {
	case $1 in
	fm-unix | fm-inbound) e2e_milter_pid ;;
	dkim-unix) e2e_pid_read opendkim ;;
	bare | bare-dsn) ;;
	*) e2e_pid_read "$1" ;;
	esac
}

# run VARIANT COUNT [ROUND] - one run; with ROUND it is recorded, with the
# busy CPU time of the machine and of the variant's milter during the run
run() {
	local v=$1 n=$2 rw0=0 rw a t out dsn="" pid c0 c1 m0=0 m1=0
	[[ -n ${PORT[$v]:-} ]] || e2e_die "unknown variant $v"
	[[ $v == *-dsn || $v == fm-inbound ]] && dsn=1
	[[ -n ${MLOG[$v]:-} ]] && rw0=$(line_count "${MLOG[$v]}" "${MLINE[$v]}")
	pid=$(milter_pid "$v")
	[[ -n $pid ]] && m0=$(pid_ticks "$pid")
	c0=$(cpu_ticks)
	out=$(send "${PORT[$v]}" "$n" "$C" $dsn)
	c1=$(cpu_ticks)
	[[ -n $pid ]] && m1=$(pid_ticks "$pid")
	read -r a t <<<"$out"
	if [[ -n ${MLOG[$v]:-} ]]; then
		# every message was rewritten (outbound) or recorded (inbound)
		rw=$(($(line_count "${MLOG[$v]}" "${MLINE[$v]}") - rw0))
		((rw == n)) || e2e_die "$v: $rw lines '${MLINE[$v]}' logged for $n messages"
	fi
	if [[ -n ${3:-} ]]; then
		echo "$3 $v $a $t $((c1 - c0)) $((m1 - m0))" >>"$RUNS"
		awk -v v="$v" -v n="$n" -v a="$a" -v t="$t" -v c="$((c1 - c0))" -v m="$((m1 - m0))" \
			-v hz="$(getconf CLK_TCK)" 'BEGIN {
			printf "  %-12s %6d msgs  accepted in %7.2f s (%6.1f msg/s)  delivered in %7.2f s (%6.1f msg/s)  CPU %.2f ms/msg (milter %.2f)\n",
				v, n, a / 1000, n * 1000 / a, t / 1000, n * 1000 / t, c * 1000 / hz / n, m * 1000 / hz / n }'
	fi
}

report() {
	awk -v n="$N" -v order="${VARIANTS[*]}" -v hz="$(getconf CLK_TCK)" '
		function median(a, k,    i, j, t) {
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
				if (a[i] > a[j]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
		}
		{
			acc[$1, $2] = n * 1000 / $3; del[$1, $2] = n * 1000 / $4; rounds[$1] = 1; seen[$2] = 1
			cpu[$1, $2] = $5 * 1000 / hz / n; mcpu[$1, $2] = $6 * 1000 / hz / n
		}
		END {
			nv = split(order, vs, " ")
			printf "\n%-12s %12s %12s %10s %10s %9s %9s\n", "variant", "accepted/s", "delivered/s", "acc/bare", "del/bare", "CPU ms", "milter ms"
			for (i = 1; i <= nv; i++) {
				v = vs[i]; k = 0; kr = 0
				b = v == "fm-inbound" ? "bare-dsn" : "bare"
				for (r in rounds) if ((r, v) in acc) {
					x[++k] = acc[r, v]; y[k] = del[r, v]; cx[k] = cpu[r, v]; mx[k] = mcpu[r, v]
					if ((r, b) in acc) { ++kr; ra[kr] = acc[r, v] / acc[r, b]; rd[kr] = del[r, v] / del[r, b] }
				}
				if (!k) continue
				ma[v] = median(x, k); md[v] = median(y, k); mc[v] = median(cx, k); mm[v] = median(mx, k)
				if (kr) { pa[v] = median(ra, kr); pd[v] = median(rd, kr) }
				printf "%-12s %12.1f %12.1f", v, ma[v], md[v]
				if (kr) printf " %10.3f %10.3f", pa[v], pd[v]
				else printf " %10s %10s", "", ""
				printf " %9.2f %9.2f\n", mc[v], mm[v]
			}
			if (("fm-unix" in pd) && ("ref-unix" in pd)) {
				printf "\nfm-unix / ref-unix (delivered): %.3f  (target >= 0.97)\n", pd["fm-unix"] / pd["ref-unix"]
				printf "fm-unix / bare (delivered):     %.3f  (target >= 0.78)\n", pd["fm-unix"]
			}
			if (("refs-unix" in pd) && ("ref-unix" in pd))
				printf "refs-unix / ref-unix (delivered): %.3f  (the steps alone)\n", pd["refs-unix"] / pd["ref-unix"]
			if (("fm-unix" in pd) && ("refs-unix" in pd))
				printf "fm-unix / refs-unix (delivered): %.3f  (the milter'"'"'s own work)\n", pd["fm-unix"] / pd["refs-unix"]
			if (("fm-inet" in pd) && ("fm-unix" in pd))
				printf "fm-inet / fm-unix (delivered):  %.3f\n", pd["fm-inet"] / pd["fm-unix"]
			if (("ref-inet" in pd) && ("ref-unix" in pd))
				printf "ref-inet / ref-unix (delivered): %.3f\n", pd["ref-inet"] / pd["ref-unix"]
			if ("fm-inbound" in pd)
				printf "fm-inbound / bare-dsn (delivered): %.3f  (target >= 0.70)\n", pd["fm-inbound"]
			if (("fm-inet-nd" in pd) && ("fm-inet" in pd))
				printf "fm-inet without / with TCP_NODELAY (delivered): %.3f\n", pd["fm-inet-nd"] / pd["fm-inet"]
			if (("fm-inet-nq" in pd) && ("fm-inet" in pd))
				printf "fm-inet without / with TCP_QUICKACK (delivered): %.3f\n", pd["fm-inet-nq"] / pd["fm-inet"]
			if (("ref-inet-nq" in pd) && ("ref-inet" in pd))
				printf "ref-inet without / with TCP_QUICKACK (delivered): %.3f\n", pd["ref-inet-nq"] / pd["ref-inet"]
		}' "$RUNS"
}

throughput() {
	echo "milter throughput: smtp-source -m $N -s $C -l $SIZE -> Postfix $(postconf -dh mail_version) -> smtp-sink"
	echo "  $(nproc) CPUs; $ROUNDS rounds; variants: ${VARIANTS[*]}"
	local r i k=${#VARIANTS[@]}
	for ((i = 0; i < k; i++)); do
		run "${VARIANTS[i]}" "$WARMUP"
	done
	for ((r = 0; r < ROUNDS; r++)); do
		echo "round $((r + 1))"
		for ((i = 0; i < k; i++)); do
			run "${VARIANTS[(i + r) % k]}" "$N" "$((r + 1))"
		done
	done
	report
	store_report
}

# store_report - each feedback-milter stopped, with what its store wrote
# (its stop log line): records per commit show how far the group commit
# batched the messages of concurrent sessions
store_report() {
	local name log line
	echo
	for name in feedback-milter fm-inet fm-inet-nd fm-inet-nq; do
		if [[ $name == feedback-milter ]]; then
			log=$E2E_DIR/milter.log
			e2e_milter_stop
		else
			[[ " ${VARIANTS[*]} " == *" $name "* ]] || continue
			log=$E2E_DIR/$name.log
			e2e_stop_pid "$(e2e_pid_read "$name")" "$name" 30
			e2e_pid_forget "$name"
		fi
		line=$(grep -h 'store: [1-9][0-9]* records in .* commits' "$log" | tail -n 1)
		[[ -n $line ]] || continue
		echo "$line" | awk -v n="$name" '{
			printf "%-16s %s records in %s commits (%.2f records per commit, warm-up included)\n",
				n ":", $3, $6, $6 ? $3 / $6 : 0 }'
	done
}

# ---------------------------------------------------------------------------
# Memory

# mem PID - "VmRSS VmHWM" in kB
mem() {
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r + 0, h + 0 }' "/proc/$1/status"
}

# sample_while PID OUT CMD... - run CMD, reading mem PID every second into OUT
sample_while() {
	local pid=$1 out=$2 cmdpid
	shift 2
	"$@" &
	cmdpid=$!
	while kill -0 "$cmdpid" 2>/dev/null; do
		mem "$pid" >>"$out"
		sleep 1
	done
	wait "$cmdpid"
}

memory() {
	local pid s0 s1 s2 s3 done=0 t_end batch samples=$E2E_DIR/mem.samples
	pid=$(e2e_milter_pid)
	echo "milter memory: feedback-milter (pid $pid) over a unix socket, $SIZE-byte messages"
	run fm-unix "$WARMUP"
	s0=$(mem "$pid")
	echo "  after warm-up ($WARMUP msgs):  VmRSS/VmHWM $s0 kB"
	: >"$samples"
	sample_while "$pid" "$samples" send "${PORT[fm-unix]}" "$MEM_BURST" "$MEM_C" >/dev/null
	s1=$(mem "$pid")
	echo "  $MEM_C concurrent sessions, $MEM_BURST msgs: peak sampled VmRSS $(sort -n "$samples" | tail -n 1 | cut -d' ' -f1) kB; after: VmRSS/VmHWM $s1 kB"
	t_end=$(($(e2e_now_ms) + MEM_SECONDS * 1000))
	: >"$samples"
	echo "  long run: batches of $MEM_BATCH over $C sessions for up to $MEM_SECONDS s (at most $MEM_MAX msgs)"
	while ((done < MEM_MAX && $(e2e_now_ms) < t_end)); do
		batch=$MEM_BATCH
		((done + batch > MEM_MAX)) && batch=$((MEM_MAX - done))
		sample_while "$pid" "$samples" send "${PORT[fm-unix]}" "$batch" "$C" >/dev/null
		done=$((done + batch))
		s2=$(mem "$pid")
		echo "    $done msgs: VmRSS/VmHWM $s2 kB"
	done
	sleep 2
	s3=$(mem "$pid")
	echo "  after $done msgs (+ $MEM_BURST + $WARMUP): VmRSS/VmHWM $s3 kB (peak sampled VmRSS during the long run $(sort -n "$samples" | tail -n 1 | cut -d' ' -f1) kB)"
}

main() {
	setup
	if [[ $MEMORY == 1 ]]; then
		memory
	else
		throughput
	fi
}

main "$@"
