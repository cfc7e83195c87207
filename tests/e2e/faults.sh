#!/bin/bash
#
# tests/e2e/faults.sh - fault injection end to end: the failure policy of
# DESIGN.md ("Failure policy") against a real Postfix with feedback-milter.
#
#   client ──▶ Postfix A (milter) ──▶ smtp-sink
#                   │
#             feedback-milter ── store on a small tmpfs (when mount works)
#                   │
#             DNS: a python3 UDP responder (Nameservers) that forwards to NSD
#                  or, by the first label of the query name, answers SERVFAIL
#                  ("servfail"), a truncated answer with no TCP service
#                  ("trunc") or nothing ("silent")
#
# Cases:
#   (s1) store read-only (mode 0444 on the database and its WAL files,
#        milter restarted), (s2) disk full, (s3) locked past
#        DatabaseBusyTimeout, (s4) database files deleted while running:
#        outbound mail is tempfailed 451 4.3.0 at end of DATA, nothing at the
#        sink, "tempfail reason=store" logged; an inbound bounce to a valid
#        code is tempfailed 451; after the fault is cleared the next message
#        is rewritten, recorded and decodes.
#   (d1..d4) DNS server down, silent, SERVFAIL, truncated without TCP: SPF
#        and DKIM are temperror, the event is still recorded, within the
#        DNS timeout, no crash.
#   (t)  SIGTERM while a bounce waits on the silent server: the bounce is
#        finished and recorded before the milter exits, cleanly.
#   (c)  kill -9 of the milter under load (smtp-source): every message at
#        the sink carries a code with a send record.
#   (j)  milter stopped: Postfix answers 4xx, nothing leaves.
#
# Run as root: tests/e2e/faults.sh. Closes with "N passed, M failed".
# CRASH_N (3000) and CRASH_C (20) size the crash test.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

FB=feedback.example.nl
CRASH_N=${CRASH_N:-3000}
CRASH_C=${CRASH_C:-20}
DNS_TIMEOUT_S=2
TMPFS=0
RESPONDER_PORT=""
DKIM_KEY=""
BASE_CONFIG=()

# --------------------------------------------------------------------------
# Checks (tests/e2e/checks.sh)

# restart_gone_milter NAME FN - a case may leave the milter stopped (a
# crash, a failed start): start it again for the next case
restart_gone_milter() {
	if [[ $2 != case_z ]] && ! e2e_pid_alive "$(e2e_milter_pid)"; then
		echo "# restarting the milter after $1"
		e2e_milter_start || true
	fi
}
E2E_CASE_AFTER=restart_gone_milter

on_exit() {
	local rc=$1 name
	responder_stop
	for name in smtp-source lock-holder; do
		[[ -n $E2E_DIR && -e $E2E_DIR/pids/$name ]] || continue
		e2e_stop_pid "$(e2e_pid_read "$name")" "$name" 5
		e2e_pid_forget "$name"
	done
	if ((TMPFS)) && [[ -n $E2E_DIR ]]; then
		e2e_milter_stop
		umount "$E2E_DIR/db" 2>/dev/null || umount -l "$E2E_DIR/db" 2>/dev/null || true
		TMPFS=0
	fi
	checks_on_exit "$rc"
}

# --------------------------------------------------------------------------
# Helpers

mlines() { wc -l <"$E2E_DIR/milter.log"; }
evq() { e2e_sql "SELECT $1 FROM events WHERE $2 ORDER BY id"; }
has_event() { [[ -n $(evq id "$1") ]]; }
sigs() {
	e2e_sql "SELECT s.domain || ':' || s.selector || ':' || s.result FROM event_sigs s
		JOIN events e ON e.id = s.event_id WHERE $1 ORDER BY e.id, s.idx"
}
crlf() { sed 's/$/\r/'; }

# send_coded CASE TOKEN - one outbound message: 250, at the sink with a
# code that decodes to its send; prints the code
send_coded() {
	local name=$1 token=$2 reply f from json
	reply=$(e2e_smtp_send "$token" alice@example.nl "rcpt-$token@remote.example")
	expect_match "$name: accepted (250)" '^250 [0-9A-Za-z]+$' "$reply"
	f=$(e2e_sink_wait "$token") || true
	check "$name: at the sink" test -n "$f"
	from=$(e2e_sink_mail_from "$f")
	expect_match "$name: MAIL FROM is coded" "^$CODE_RE@$FB\$" "$from"
	json=$(e2e_ctl decode --json "$from" 2>/dev/null) || true
	expect_eq "$name: its code decodes to its send" "alice@example.nl|rcpt-$token@remote.example" \
		"$(e2e_json_get sender <<<"$json")|$(e2e_json_get recipients <<<"$json")"
	echo "${from%@*}"
}

# out_tempfailed CASE TOKEN BEFORE - an outbound message is tempfailed 451
# 4.3.0 at end of DATA, logged as reason=store, nothing at the sink
out_tempfailed() {
	local name=$1 token=$2 before=$3 reply
	reply=$(e2e_smtp_send "$token" alice@example.nl "rcpt-$token@remote.example")
	expect_match "$name: outbound tempfailed at end of DATA (451 4.3.0)" '^451 DATA 4\.3\.0 ' "$reply"
	check "$name: 'tempfail reason=store' logged" \
		e2e_log_after "$E2E_DIR/milter.log" "$before" 'tempfail reason=store'
	sleep 0.5
	check "$name: nothing of it at the sink" test -z "$(e2e_sink_file "$token")"
}

# make_dsn TOKEN CODE RCPT - an RFC 3464 DSN to CODE@FB
make_dsn() {
	local token=$1 code=$2 rcpt=$3
	crlf <<-EOF
		From: Mail Delivery System <MAILER-DAEMON@mx.faults.example>
		To: <$code@$FB>
		Subject: Undelivered Mail Returned to Sender
		Date: $(date -R)
		Message-ID: <$token@mx.faults.example>
		Auto-Submitted: auto-replied
		MIME-Version: 1.0
		Content-Type: multipart/report; report-type=delivery-status;
		 boundary="$token.boundary"

		--$token.boundary
		Content-Type: text/plain; charset=us-ascii

		<$rcpt>: 550 5.1.1 User unknown
		END $token

		--$token.boundary
		Content-Type: message/delivery-status

		Reporting-MTA: dns; mx.faults.example

		Final-Recipient: rfc822; $rcpt
		Action: failed
		Status: 5.1.1
		Diagnostic-Code: smtp; 550 5.1.1 User unknown

		--$token.boundary
		Content-Type: text/rfc822-headers

		Return-Path: <$code@$FB>
		From: alice@example.nl
		To: $rcpt
		Message-ID: <orig-$token@e2e.test>

		--$token.boundary--
	EOF
}

# smtp_in FILE RCPT HELO - e2e_swaks_in from <> as 192.0.2.10 saying HELO
smtp_in() { e2e_swaks_in "$1" "$2" 192.0.2.10 "<>" "$3"; }

# in_tempfailed CASE CODE TOKEN BEFORE - a bounce to CODE is tempfailed 451
# with reason=store logged, and nothing is recorded
in_tempfailed() {
	local name=$1 code=$2 token=$3 before=$4 reply
	make_dsn "$token" "$code" "rcpt-$token@remote.example" >"$E2E_DIR/state/$token.eml"
	reply=$(smtp_in "$E2E_DIR/state/$token.eml" "$code@$FB" ok.faults.example)
	expect_match "$name: inbound bounce tempfailed (451)" '^451 DATA 4\.' "$reply"
	check "$name: 'tempfail reason=store code=$code' logged" \
		e2e_log_after "$E2E_DIR/milter.log" "$before" "tempfail reason=store code=$code"
}

# in_recorded CASE CODE TOKEN - a bounce to CODE is accepted and recorded
in_recorded() {
	local name=$1 code=$2 token=$3 reply qid
	make_dsn "$token" "$code" "rcpt-$token@remote.example" >"$E2E_DIR/state/$token.eml"
	reply=$(smtp_in "$E2E_DIR/state/$token.eml" "$code@$FB" ok.faults.example)
	expect_match "$name: inbound bounce accepted (250)" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	check "$name: its event is recorded" \
		e2e_wait_until "$E2E_TIMEOUT" "an event for $qid" has_event "queue_id='$qid'"
	expect_eq "$name: event class and code" "hard|$code" "$(evq "class, code" "queue_id='$qid'")"
}

db_files() {
	local f
	for f in "$E2E_DIR"/db/feedback.db{,-wal,-shm}; do
		[[ -e $f ]] && echo "$f"
	done
	return 0
}

milter_restart() {
	e2e_milter_stop
	e2e_milter_start
}

# --------------------------------------------------------------------------
# The DNS responder (UDP only: a truncated answer cannot be retried over TCP)

responder_start() {
	python3 - "$RESPONDER_PORT" "$E2E_DNS_PORT" >>"$E2E_DIR/responder.log" 2>&1 <<-'PY' &
		import socket, struct, sys, threading
		port, upstream = int(sys.argv[1]), int(sys.argv[2])
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind(("127.0.0.1", port))
		print("listening", flush=True)
		def qend(p):
		    i = 12
		    labels = []
		    while p[i]:
		        labels.append(p[i + 1:i + 1 + p[i]].decode("ascii", "replace").lower())
		        i += 1 + p[i]
		    return i + 5, labels
		def handle(p, addr):
		    try:
		        end, labels = qend(p)
		    except Exception:
		        return
		    mode = labels[0] if labels else ""
		    print(mode, ".".join(labels), flush=True)
		    flags = struct.unpack(">H", p[2:4])[0]
		    if mode == "silent":
		        return
		    if mode in ("servfail", "trunc"):
		        f = 0x8000 | (flags & 0x7900) | 0x0080
		        f |= 0x0200 if mode == "trunc" else 0x0002
		        s.sendto(p[:2] + struct.pack(">HHHHH", f, 1, 0, 0, 0) + p[12:end], addr)
		        return
		    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    u.settimeout(3)
		    try:
		        u.sendto(p, ("127.0.0.1", upstream))
		        r, _ = u.recvfrom(65535)
		        s.sendto(r, addr)
		    except OSError:
		        pass
		    finally:
		        u.close()
		while True:
		    p, addr = s.recvfrom(65535)
		    threading.Thread(target=handle, args=(p, addr), daemon=True).start()
	PY
	e2e_pid_save responder $!
	e2e_wait_until "$E2E_TIMEOUT" "the DNS responder" \
		grep -q listening "$E2E_DIR/responder.log"
}

responder_stop() {
	[[ -n $E2E_DIR && -e $E2E_DIR/pids/responder ]] || return 0
	e2e_stop_pid "$(e2e_pid_read responder)" "DNS responder" 5
	e2e_pid_forget responder
}

# --------------------------------------------------------------------------
# Store faults

# (s1) read-only store. While the milter runs, nothing makes its writes
# fail short of chattr (not available here): mode bits are checked at
# open(2) only, and its connection holds the database and WAL files open
# for writing; a remount read-only of the store's tmpfs fails with EBUSY
# for the same reason. So: (i) chmod 0444 while running changes nothing, the
# next message is recorded; (ii) a milter started on a read-only store
# refuses to start ("database is read-only"), and Postfix defers (4xx)
# outbound and inbound mail (milter_default_action = tempfail); (iii) with
# the modes restored it starts and records again.
case_s1() {
	local before code modes m f reply pid i
	code=$(send_coded "(s1) before" s1-pre)
	modes=$(stat -c '%a %n' $(db_files))
	chmod 0444 $(db_files)
	send_coded "(s1) chmod 0444 while running: still recorded (open descriptors)" s1-running >/dev/null
	e2e_milter_stop
	before=$(mlines)
	rm -f "$E2E_MILTER_SOCK"
	"$FEEDBACK_MILTER" -c "$E2E_MILTER_CONF" -f >>"$E2E_DIR/milter.log" 2>&1 &
	pid=$!
	check "(s1) on a read-only store the milter refuses to start (exits)" \
		e2e_wait_until "$E2E_TIMEOUT" "the milter to exit" e2e_pid_gone "$pid"
	wait "$pid" 2>/dev/null || true
	check "(s1) ... and says why (database is read-only)" \
		e2e_log_after "$E2E_DIR/milter.log" "$before" 'Database: .*read-only'
	note "$(tail -n +"$((before + 1))" "$E2E_DIR/milter.log" | grep -m1 'read-only')"
	reply=$(e2e_smtp_send s1-out alice@example.nl rcpt-s1-out@remote.example)
	expect_match "(s1) outbound deferred by Postfix (4xx)" '^4[0-9][0-9] ' "$reply"
	make_dsn s1-in "$code" rcpt-s1-in@remote.example >"$E2E_DIR/state/s1-in.eml"
	reply=$(smtp_in "$E2E_DIR/state/s1-in.eml" "$code@$FB" ok.faults.example)
	expect_match "(s1) inbound bounce deferred by Postfix (4xx)" '^4[0-9][0-9] ' "$reply"
	sleep 0.5
	check "(s1) nothing of them at the sink" test -z "$(e2e_sink_file s1-out)$(e2e_sink_file s1-in)"
	# (the WAL files went at the milter's clean stop)
	while read -r m f; do [[ ! -e $f ]] || chmod "$m" "$f"; done <<<"$modes"
	e2e_milter_start
	send_coded "(s1) after the modes are restored" s1-post >/dev/null
	in_recorded "(s1) after" "$code" s1-in2
}

# (s2) disk full: the store's directory is a small tmpfs; a filler takes
# every free block
case_s2() {
	local before code i
	if ((!TMPFS)); then
		skip "(s2) disk full" "mount -t tmpfs failed here: $(cat "$E2E_DIR/state/mount.err" 2>/dev/null)"
		return 0
	fi
	code=$(send_coded "(s2) before" s2-pre)
	before=$(mlines)
	dd if=/dev/zero of="$E2E_DIR/db/filler" bs=64k 2>/dev/null || true
	note "filled: $(df -k --output=avail "$E2E_DIR/db" | tail -n 1 | tr -d ' ') KB free"
	out_tempfailed "(s2) disk full" s2-out "$before"
	note "$(grep 'tempfail reason=store' "$E2E_DIR/milter.log" | tail -n 1)"
	in_tempfailed "(s2) disk full" "$code" s2-in "$before"
	rm -f "$E2E_DIR/db/filler"
	send_coded "(s2) after space is freed" s2-post >/dev/null
	in_recorded "(s2) after" "$code" s2-in2
}

# lock_store FLAG RELEASE - hold an exclusive lock, as the milter's user, in
# the background (its PID in LOCK_PID): FLAG is written once the lock is
# held; the lock is released when RELEASE exists (or after 60 s)
LOCK_PID=""
lock_store() {
	runuser -u "$E2E_MILTER_USER" -- python3 - "$E2E_DIR/db/feedback.db" "$1" "$2" <<-'PY' &
		import os, sqlite3, sys, time
		db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
		db.execute("BEGIN EXCLUSIVE")
		open(sys.argv[2], "w").write("locked\n")
		end = time.time() + 60
		while time.time() < end and not os.path.exists(sys.argv[3]):
		    time.sleep(0.05)
		db.execute("COMMIT")
	PY
	LOCK_PID=$!
	e2e_pid_save lock-holder "$LOCK_PID"
}

# (s3) locked by another process past DatabaseBusyTimeout (1s)
case_s3() {
	local before code holder flag=$E2E_DIR/run/s3.locked release=$E2E_DIR/run/s3.release
	code=$(send_coded "(s3) before" s3-pre)
	before=$(mlines)
	lock_store "$flag" "$release"
	holder=$LOCK_PID
	check "(s3) another process holds the lock" \
		e2e_wait_until "$E2E_TIMEOUT" "the lock holder" test -s "$flag"
	out_tempfailed "(s3) locked" s3-out "$before"
	in_tempfailed "(s3) locked" "$code" s3-in "$before"
	note "$(grep 'tempfail reason=store' "$E2E_DIR/milter.log" | tail -n 1)"
	touch "$release"
	check "(s3) the lock holder let go" \
		e2e_wait_until "$E2E_TIMEOUT" "the lock holder to finish" e2e_pid_gone "$holder"
	wait "$holder" 2>/dev/null || true
	send_coded "(s3) after the lock" s3-post >/dev/null
	in_recorded "(s3) after" "$code" s3-in2
}

# (s4) the database files are deleted while the milter runs
case_s4() {
	local before code reply f from rc json
	code=$(send_coded "(s4) before" s4-pre)
	before=$(mlines)
	rm -f "$E2E_DIR"/db/feedback.db{,-wal,-shm}
	reply=$(e2e_smtp_send s4-out alice@example.nl rcpt-s4-out@remote.example)
	note "after rm of the database: outbound reply '$reply'"
	note "milter log since: $(tail -n +"$((before + 1))" "$E2E_DIR/milter.log" | tr '\n' ' ' | cut -c1-400)"
	check "(s4) the milter is still running" e2e_pid_alive "$(e2e_milter_pid)"
	if [[ $reply == 250* ]]; then
		f=$(e2e_sink_wait s4-out) || true
		from=$(e2e_sink_mail_from "$f")
		# The send record went into the unlinked inode: nobody else can
		# read it, and it is gone when the milter restarts.
		rc=0
		json=$(e2e_ctl decode --json "$from" 2>&1) || rc=$?
		note "decode of $from while deleted: exit $rc: $(tr '\n' ' ' <<<"$json" | cut -c1-200)"
		fail "(s4) no message leaves with a code whose send record is not in the database file" \
			"reply '$reply', MAIL FROM <$from>, feedbackctl decode exit $rc" || true
	else
		expect_match "(s4) deleted store: outbound tempfailed (451 4.3.0)" '^451 DATA 4\.3\.0 ' "$reply"
	fi
	milter_restart
	check "(s4) a restart makes a new store" test -e "$E2E_DIR/db/feedback.db"
	send_coded "(s4) after restart" s4-post >/dev/null
}

# --------------------------------------------------------------------------
# DNS faults: a bounce signed for faults.example with selector MODE, HELO
# MODE.faults.example: SPF and DKIM ask MODE.faults.example and
# MODE._domainkey.faults.example, which the responder treats by MODE

# dns_bounce CASE MODE - send it; the event is recorded with SPF and DKIM
# results; print "spf|dkim" (and check the time)
dns_case() {
	local name=$1 mode=$2 spf=$3 dkim=$4 code qid reply t0 t1 before
	code=$(cat "$E2E_DIR/state/dns.code")
	make_dsn "dns-$mode" "$code" "rcpt-dns-$mode@remote.example" >"$E2E_DIR/state/dns-$mode.eml"
	e2e_dkim_sign faults.example "$mode" "$DKIM_KEY" "$E2E_DIR/state/dns-$mode.eml" \
		"$E2E_DIR/state/dns-$mode.signed.eml"
	before=$(mlines)
	t0=$(e2e_now_ms)
	reply=$(smtp_in "$E2E_DIR/state/dns-$mode.signed.eml" "$code@$FB" "$mode.faults.example")
	t1=$(e2e_now_ms)
	expect_match "$name: the bounce is accepted (250)" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	note "$name: SMTP transaction took $((t1 - t0)) ms (DnsTimeout ${DNS_TIMEOUT_S}s)"
	check "$name: within 3 x DnsTimeout + 3 s" test $((t1 - t0)) -le $(((3 * DNS_TIMEOUT_S + 3) * 1000))
	check "$name: its event is recorded" \
		e2e_wait_until "$E2E_TIMEOUT" "an event for $qid" has_event "queue_id='$qid'"
	expect_eq "$name: events.spf_result" "$spf" "$(evq "spf_result" "queue_id='$qid'")"
	expect_eq "$name: event_sigs.result" "faults.example:$mode:$dkim" "$(sigs "e.queue_id='$qid'")"
	note "$(grep -F "$qid: bounce" "$E2E_DIR/milter.log" | head -n 1)"
	check "$name: the milter is still running" e2e_pid_alive "$(e2e_milter_pid)"
}

case_d0() {
	send_coded "(d0) a send to bounce" dns >/dev/null
	e2e_sql "SELECT code FROM sends WHERE msgid='<dns@e2e.test>'" >"$E2E_DIR/state/dns.code"
	dns_case "(d0) DNS up" ok pass pass
}
case_d1() {
	e2e_dns_stop
	responder_stop
	dns_case "(d1) DNS server down (nothing on the port)" down temperror temperror
	responder_start
}
case_d2() { dns_case "(d2) silent server (timeout)" silent temperror temperror; }
case_d3() { dns_case "(d3) SERVFAIL" servfail temperror temperror; }
case_d4() { dns_case "(d4) truncated, no TCP" trunc temperror temperror; }

# (d5) RequireAuthentication dkim and a silent key server: the DKIM result
# is temperror, which a retry may turn into a pass, so the bounce is
# deferred (4xx, the sender retries), not discarded unrecorded
case_d5() {
	local code reply before
	e2e_milter_config_write "${BASE_CONFIG[@]}" "RequireAuthentication dkim"
	milter_restart
	code=$(cat "$E2E_DIR/state/dns.code")
	before=$(mlines)
	reply=$(smtp_in "$(silent_dsn dns-d5)" "$code@$FB" silent.faults.example)
	expect_match "(d5) the bounce is deferred (451)" '^451 ' "$reply"
	check "(d5) the milter logged why" e2e_log_after "$E2E_DIR/milter.log" "$before" \
		"tempfail reason=dns code=$code .*RequireAuthentication cannot be decided"
	expect_eq "(d5) nothing is recorded for it" 0 "$(evq "count(*)" "recipient='rcpt-dns-d5@remote.example'")"
	e2e_milter_config_write "${BASE_CONFIG[@]}"
	milter_restart
}

# (t) SIGTERM while a bounce waits for its DNS lookups (the silent server,
# DnsTimeout 7s): libmilter's smfi_main returns within 5 s (its listener
# polls every 5 s) without waiting for sessions, but the milter lets the
# bounce under way finish (recorded, 250) before it frees the resolver and
# the store, and exits cleanly
silent_queries() { grep -c '^silent ' "$E2E_DIR/responder.log" || true; }
# silent_dsn TOKEN - a bounce to dns.code for rcpt-TOKEN@remote.example,
# DKIM-signed with the selector the responder never answers; prints its path
silent_dsn() {
	local code
	code=$(cat "$E2E_DIR/state/dns.code")
	make_dsn "$1" "$code" "rcpt-$1@remote.example" >"$E2E_DIR/state/$1.eml"
	e2e_dkim_sign faults.example silent "$DKIM_KEY" "$E2E_DIR/state/$1.eml" \
		"$E2E_DIR/state/$1.signed.eml"
	echo "$E2E_DIR/state/$1.signed.eml"
}
silent_queried_since() { (($(silent_queries) > $1)); }
case_t() {
	# the milter is restarted with the usual configuration in any case
	case_t_steps || true
	e2e_milter_config_write "${BASE_CONFIG[@]}"
	e2e_pid_alive "$(e2e_milter_pid)" || e2e_milter_start
}
case_t_steps() {
	local code pid q0 sender reply qid lines=() line
	for line in "${BASE_CONFIG[@]}"; do
		[[ $line == DnsTimeout* ]] || lines+=("$line")
	done
	e2e_milter_config_write "${lines[@]}" "DnsTimeout 7s"
	milter_restart
	code=$(cat "$E2E_DIR/state/dns.code")
	q0=$(silent_queries)
	smtp_in "$(silent_dsn dns-term)" "$code@$FB" silent.faults.example \
		>"$E2E_DIR/state/dns-term.reply" &
	sender=$!
	check "(t) the bounce's lookups reached the silent server" \
		e2e_wait_until "$E2E_TIMEOUT" "a query for silent.faults.example" silent_queried_since "$q0"
	pid=$(e2e_milter_pid)
	kill -TERM "$pid"
	reply=$(e2e_smtp_send t-new alice@example.nl rcpt-t@remote.example)
	expect_match "(t) a new message during the shutdown is deferred (4xx)" '^4[0-9][0-9] ' "$reply"
	wait "$sender" || true
	reply=$(cat "$E2E_DIR/state/dns-term.reply")
	expect_match "(t) the bounce under way at SIGTERM is finished: 250" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	check "(t) ... and its event is recorded" has_event "queue_id='$qid'"
	check "(t) the milter (pid $pid) exited" \
		e2e_wait_until "$E2E_TIMEOUT" "the milter to exit" e2e_pid_gone "$pid"
	wait "$pid" 2>/dev/null || true
	e2e_pid_forget feedback-milter
	check "(t) it logged that it stopped" grep -q ': stopped$' "$E2E_DIR/milter.log"
	check "(t) the deferred message did not leave" test -z "$(e2e_sink_file t-new)"
	if e2e_milter_log_clean; then
		pass "(t) no sanitizer or valgrind report in the milter log"
	else
		fail "(t) no sanitizer or valgrind report in the milter log" \
			"$(grep -E -m 5 'Sanitizer|runtime error:|==[0-9]+==' "$E2E_DIR/milter.log")"
	fi
}

# --------------------------------------------------------------------------
# (c) crash safety. smtp-source gives CRASH_N messages to Postfix B (no
# milter), which relays them to A (the milter) and retries what A defers;
# smtp-source itself stops at the first 4xx, so it cannot talk to A
# directly across the kill. The milter is killed with SIGKILL when a third
# have reached the sink and started again; then every message must reach
# the sink, each with a code that has its send record. B retries by itself
# (queue_run_delay and backoff 1s); see the note above the wait.

crash_sink_files() { grep -rl '^X-Rcpt-Args: <crash@remote\.example>' "$E2E_DIR/sink" 2>/dev/null || true; }
crash_sink_count() { crash_sink_files | wc -l; }
crash_reached() { (($(crash_sink_count) >= $1)); }
remote_queue_empty() {
	[[ -z $(find "$E2E_DIR"/remote/queue/{maildrop,incoming,active,deferred,hold} \
		-type f -print -quit 2>/dev/null) ]]
}
all_delivered() {
	crash_reached "$CRASH_N" && remote_queue_empty && e2e_queue_empty
}

case_c() {
	local src pid newpid rc=0 given atsink decoded lost unrewritten dup json sample deferred
	smtp-source -s "$CRASH_C" -m "$CRASH_N" -l 1024 -f alice@example.nl -t crash@remote.example \
		-M e2e.test "127.0.0.1:$E2E_REMOTE_PORT" >"$E2E_DIR/smtp-source.log" 2>&1 &
	src=$!
	e2e_pid_save smtp-source "$src"
	check "(c) a third of the messages reached the sink" \
		e2e_wait_until 120 "$((CRASH_N / 3)) messages at the sink" crash_reached $((CRASH_N / 3))
	pid=$(e2e_milter_pid)
	kill -KILL "$pid"
	e2e_wait_until 10 "the milter to die" e2e_pid_gone "$pid" || true
	wait "$pid" 2>/dev/null || true
	note "SIGKILL to the milter (pid $pid) with $(crash_sink_count) messages at the sink"
	sleep 1
	e2e_milter_start
	newpid=$(e2e_milter_pid)
	check "(c) the milter restarted (pid $newpid)" e2e_pid_alive "$newpid"
	e2e_wait_until 240 "smtp-source to finish" e2e_pid_gone "$src" || kill "$src" 2>/dev/null || true
	wait "$src" || rc=$?
	e2e_pid_forget smtp-source
	expect_eq "(c) smtp-source gave all $CRASH_N messages to B (exit 0)" 0 "$rc"
	# B retries on its own every second (queue_run_delay, backoff 1s).
	# But when B's qmgr meets a deferred message its smtp still holds
	# (a cached connection), it logs "skipped, still being delivered" and
	# puts the message aside, where it can wait for minutes (seen on a
	# loaded machine with the ASan build). So once the sink stops
	# growing, B's queue is flushed every 30 s.
	local waited=0 last=-1 now_count
	until all_delivered || ((waited >= 600)); do
		sleep 5
		waited=$((waited + 5))
		now_count=$(crash_sink_count)
		if ((now_count == last && waited % 30 == 0)); then
			note "sink at $now_count after ${waited}s: flushing B's queue"
			postqueue -c "$E2E_REMOTE_PF" -f >>"$E2E_DIR/postfix-cmd.log" 2>&1 || true
		fi
		last=$now_count
	done
	check "(c) every message arrived and both queues drained (${waited}s)" all_delivered
	given=$(grep -cE 'postfix-remote/cleanup\[[0-9]+\]: [0-9A-Za-z]+: message-id=<[0-9a-f.]+@e2e\.test>' \
		"$E2E_DIR/remote.log" || true)
	deferred=$(grep -cE 'postfix-remote/smtp\[[0-9]+\]: .*to=<crash@remote\.example>.*status=deferred' \
		"$E2E_DIR/remote.log" || true)
	crash_sink_files | xargs -r sed -n -E "s/^X-Mail-Args: <($CODE_RE)@$FB>.*/\1/p" | sort >"$E2E_DIR/state/crash.sink"
	atsink=$(crash_sink_count)
	unrewritten=$(crash_sink_files | xargs -r grep -h '^X-Mail-Args: ' | grep -c '<alice@example\.nl>' || true)
	dup=$(uniq -d "$E2E_DIR/state/crash.sink" | wc -l)
	e2e_sql "SELECT code FROM sends" | sort -u >"$E2E_DIR/state/crash.sends"
	decoded=$(comm -12 "$E2E_DIR/state/crash.sink" "$E2E_DIR/state/crash.sends" | wc -l)
	lost=$(comm -23 "$E2E_DIR/state/crash.sink" "$E2E_DIR/state/crash.sends" | wc -l)
	note "crash test: sent $given (B accepted from smtp-source, $CRASH_C sessions), deferred by A and retried $deferred," \
		"at sink $atsink, coded $(wc -l <"$E2E_DIR/state/crash.sink"), decoded $decoded, lost $lost," \
		"unrewritten $unrewritten, duplicate codes $dup"
	expect_eq "(c) B accepted all of them" "$CRASH_N" "$given"
	expect_eq "(c) each reached the sink once" "$CRASH_N" "$atsink"
	expect_eq "(c) none left unrewritten" 0 "$unrewritten"
	expect_eq "(c) every code at the sink has its send record (decoded)" "$atsink" "$decoded"
	expect_eq "(c) lost" 0 "$lost"
	rc=0
	for sample in $(shuf -n 5 "$E2E_DIR/state/crash.sink"); do
		json=$(e2e_ctl decode --json "$sample@$FB" 2>/dev/null) || rc=1
		[[ $(e2e_json_get recipients <<<"$json") == crash@remote.example ]] || rc=1
	done
	expect_eq "(c) feedbackctl decode: a sample of 5 names crash@remote.example" 0 "$rc"
	check "(c) no sanitizer report" e2e_milter_log_clean
}

# (j) the milter stopped: 4xx, nothing leaves
case_j() {
	local reply
	e2e_milter_stop
	reply=$(e2e_smtp_send j-out alice@example.nl rcpt-j@remote.example)
	expect_match "(j) milter stopped: SMTP mail is deferred (4xx)" '^4[0-9][0-9] ' "$reply"
	sleep 0.5
	check "(j) nothing reached the sink" test -z "$(e2e_sink_file j-out)"
	e2e_milter_start
	send_coded "(j) milter back" j-post >/dev/null
}

case_z() {
	local pid
	pid=$(e2e_milter_pid)
	e2e_milter_stop
	check "(z) the milter (pid $pid) exited on SIGTERM" e2e_pid_gone "$pid"
	if e2e_milter_log_clean; then
		pass "(z) no sanitizer report in the milter log"
	else
		fail "(z) no sanitizer report in the milter log" \
			"$(grep -E -m 5 'Sanitizer|runtime error:' "$E2E_DIR/milter.log")"
	fi
}

# --------------------------------------------------------------------------

setup_dns() {
	local zone=$E2E_DIR/zones/faults.example.zone m k
	mkdir -p "$E2E_DIR/zones"
	cat >"$zone" <<-'EOF'
		$ORIGIN faults.example.
		$TTL 300
		@	SOA	ns.faults.example. hostmaster.faults.example. ( 1 3600 600 86400 300 )
		@	NS	ns.faults.example.
		ns	A	192.0.2.53
	EOF
	for m in ok down silent servfail trunc; do
		printf '%s\tTXT\t"v=spf1 ip4:192.0.2.10 -all"\n' "$m" >>"$zone"
	done
	DKIM_KEY=$(e2e_dkim_key faults.example ok "$zone")
	# the same key under the other selectors
	k=$(grep '^ok\._domainkey' "$zone" | cut -f2-)
	for m in down silent servfail trunc; do
		printf '%s._domainkey.faults.example.\t%s\n' "$m" "$k" >>"$zone"
	done
	e2e_dns_start "$zone"
	read -r RESPONDER_PORT < <(e2e_free_ports 1)
	responder_start
}

main() {
	checks_begin on_exit openssl
	e2e_ensure_dkimsign
	if mount -t tmpfs -o size=16m,mode=0755 tmpfs "$E2E_DIR/db" 2>"$E2E_DIR/state/mount.err"; then
		TMPFS=1
		chown postfix:postfix "$E2E_DIR/db"
	fi
	read -r E2E_SMTP_PORT E2E_SINK_PORT E2E_REMOTE_PORT < <(e2e_free_ports 3)
	setup_dns
	e2e_sink_start --dump
	e2e_postfix_setup
	e2e_postconf "relay_domains = remote.example, $FB"
	BASE_CONFIG=(
		"SenderDomain example.nl"
		"TrustedClients 127.0.0.0/8, ::1/128"
		"DatabaseBusyTimeout 1s"
		"Nameservers 127.0.0.1@$RESPONDER_PORT"
		"DnsTimeout ${DNS_TIMEOUT_S}s"
		"AuthservID mx.e2e.test"
		"InboundAction discard"
	)
	e2e_milter_config "${BASE_CONFIG[@]}"
	e2e_milter_start
	e2e_remote_setup
	e2e_remote_map transport remote.example "smtp:[127.0.0.1]:$E2E_SMTP_PORT"
	e2e_remote_start
	e2e_postfix_start
	echo "# work directory $E2E_DIR; Postfix on 127.0.0.1:$E2E_SMTP_PORT, sink on $E2E_SINK_PORT," \
		"DNS responder on $RESPONDER_PORT (NSD on $E2E_DNS_PORT), store on tmpfs: $TMPFS"

	run_case "(s1) store read-only" case_s1
	run_case "(s2) disk full" case_s2
	run_case "(s3) store locked" case_s3
	run_case "(s4) store deleted while running" case_s4
	run_case "(d0) DNS up" case_d0
	run_case "(d2) DNS silent" case_d2
	run_case "(d3) DNS SERVFAIL" case_d3
	run_case "(d4) DNS truncated" case_d4
	run_case "(d5) DNS silent under RequireAuthentication" case_d5
	run_case "(t) SIGTERM during a bounce's DNS lookups" case_t
	run_case "(d1) DNS down" case_d1
	run_case "(c) kill -9 under load" case_c
	run_case "(j) milter stopped" case_j
	run_case "(z) clean shutdown" case_z

	summary
	(($(count FAIL) == 0))
}

main "$@"
