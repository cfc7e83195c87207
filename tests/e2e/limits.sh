#!/bin/bash
#
# tests/e2e/limits.sh - hostile sizes and octets through a real Postfix,
# each with a defined outcome and a log line that says what happened:
#
#   client ──▶ private Postfix (127.0.0.1, feedback-milter) ──▶ discard
#
# Cases:
#   (a) oversized headers on an outbound message: a 1,500-octet Message-ID
#       and a 64 KB Subject: rewritten, the Message-ID kept to 998 octets,
#       a "limits:" line names the header
#   (b) one outbound message to 100,000 recipients (pipelined RCPTs): every
#       recipient in its send record, nrcpt=100000 in the rewrite line,
#       the milter's peak RSS bounded
#   (c) a 50 MB bounce: the event recorded from its first part, the
#       "MaxInboundSize" line, the milter's peak RSS well under 50 MB
#   (d) MIME nested 50 deep inside a bounce: the event recorded, a
#       "limits:" line names the nesting limit
#   (e) NUL octets, invalid UTF-8 and a bare CR in a bounce's headers and
#       DSN fields: the event recorded; the event line has every such octet
#       escaped; feedbackctl events --json is valid UTF-8 JSON
#   (z) no sanitizer or valgrind report, clean stop
#
# Run as root: tests/e2e/limits.sh. Prints one line per check and closes
# with "N passed, M failed"; exits non-zero if any check failed. FM_BUILD_DIR
# and the other variables of tests/e2e/README are honoured; LIMITS_RCPTS
# (default 100000) and LIMITS_BIG_MB (default 50) size cases (b) and (c).
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

FB=feedback.example.nl
LIMITS_RCPTS=${LIMITS_RCPTS:-100000}
LIMITS_BIG_MB=${LIMITS_BIG_MB:-50}
BASE_CONFIG=(
	"SenderDomain example.nl"
	"TrustedClients 127.0.0.0/8, ::1/128"
	"InboundAction discard"
	"DnsTimeout 1s"
)

# --------------------------------------------------------------------------
# Helpers

# log_for QID ERE - the milter's log lines for QID that match ERE
log_for() { grep -aE " $1: .*$2" "$E2E_DIR/milter.log" || true; }

# code_of QID - the code the milter logged for a queue id
code_of() {
	sed -n "s/^.* $1: rewrite code=\([0-9a-z]*\) .*/\1/p" "$E2E_DIR/milter.log" | head -n 1
}
has_code() { [[ -n $(code_of "$1") ]]; }

# has_event_line QID - the milter logged a bounce event for QID
has_event_line() { [[ -n $(log_for "$1" 'bounce code=') ]]; }

# rss_why_not - why the milter's RSS says nothing about the milter here
# (AddressSanitizer's shadow memory and quarantine, or valgrind), or ""
rss_why_not() {
	if [[ $(head -c 2 "$FEEDBACK_MILTER") == "#!" ]]; then
		echo "the milter runs under a wrapper ($FEEDBACK_MILTER)"
	elif grep -aq __asan_init "$FEEDBACK_MILTER"; then
		echo "the milter is built with AddressSanitizer"
	fi
}

# check_rss DESC LIMIT-KB VALUE-KB - VALUE < LIMIT, where RSS means something
check_rss() {
	local why
	why=$(rss_why_not)
	if [[ -n $why ]]; then
		skip "$1" "$why"
	else
		check "$1" test "$3" -lt "$2"
	fi
}

# hwm_kb - the milter's peak resident set (VmHWM, kB)
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$(e2e_milter_pid)/status"; }

# outbound_code TAG - send one plain outbound message; print its code
outbound_code() {
	local reply qid
	{
		printf 'From: alice@example.nl\r\nTo: bob@remote.example\r\n'
		printf 'Subject: %s\r\nMessage-ID: <%s@e2e.test>\r\n\r\nbody\r\n' "$1" "$1"
	} >"$E2E_DIR/state/$1.eml"
	reply=$(e2e_smtp_raw alice@example.nl bob@remote.example "$E2E_DIR/state/$1.eml")
	[[ $reply =~ ^250\ ([0-9A-Za-z]+)$ ]] || { echo "outbound $1: $reply" >&2; return 1; }
	qid=${BASH_REMATCH[1]}
	e2e_wait_until "$E2E_TIMEOUT" "the rewrite of $qid" has_code "$qid" >/dev/null
	code_of "$qid"
}

# dsn_head CODE - the top of a DSN for bob@remote.example to CODE@FB, up to
# and including the delivery-status part; the caller appends the rest
dsn_head() {
	printf 'From: MAILER-DAEMON@remote.example\r\nTo: %s@%s\r\n' "$1" "$FB"
	printf 'Subject: Undelivered Mail Returned to Sender\r\n'
	printf 'Message-ID: <dsn-%s@remote.example>\r\nMIME-Version: 1.0\r\n' "$1"
	printf 'Content-Type: multipart/report; report-type=delivery-status;\r\n'
	printf '\tboundary="B0"\r\n\r\n'
	printf -- '--B0\r\nContent-Type: text/plain\r\n\r\n'
	printf 'Your message could not be delivered.\r\n\r\n'
	printf -- '--B0\r\nContent-Type: message/delivery-status\r\n\r\n'
	printf 'Reporting-MTA: dns; mx.remote.example\r\n\r\n'
	printf 'Final-Recipient: rfc822; bob@remote.example\r\nAction: failed\r\n'
	printf 'Status: 5.1.1\r\n'
	printf 'Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.example>: user unknown\r\n\r\n'
}

# send_dsn CODE FILE - the DSN from <> to CODE@FB; prints the reply
send_dsn() { e2e_smtp_raw "" "$1@$FB" "$2" mx.remote.example; }

# event_of CODE COLUMNS - the event rows for CODE
event_of() { e2e_sql "SELECT $2 FROM events WHERE code = '$1' ORDER BY id"; }

# --------------------------------------------------------------------------
# Cases

# (a) oversized headers on an outbound message
case_a() {
	local reply qid code id subj line
	id="<$(head -c 1490 /dev/zero | tr '\0' 'm')@e2e.test>"
	subj=$(python3 -c 'print("\r\n ".join(["word " * 15] * 850), end="")')
	{
		printf 'From: alice@example.nl\r\nTo: bob@remote.example\r\n'
		printf 'Message-ID: %s\r\nSubject: %s\r\n\r\nEND case-a\r\n' "$id" "$subj"
	} >"$E2E_DIR/state/a.eml"
	reply=$(e2e_smtp_raw alice@example.nl bob@remote.example "$E2E_DIR/state/a.eml")
	expect_match "(a) Postfix accepted the message (250)" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	check "(a) the milter rewrote it" e2e_wait_until "$E2E_TIMEOUT" "the rewrite of $qid" has_code "$qid"
	code=$(code_of "$qid")
	expect_eq "(a) sends.msgid holds the first 998 octets of the Message-ID" \
		"998 ${id:0:998}" "$(e2e_sql "SELECT length(msgid) || ' ' || msgid FROM sends WHERE code = '$code'")"
	line=$(log_for "$qid" 'limits: Message-ID header longer than 998 octets')
	expect_eq "(a) one 'limits:' line with the queue id names the cut Message-ID" 1 \
		"$(grep -c . <<<"$line")"
	line=$(log_for "$qid" 'rewrite ')
	expect_eq "(a) one rewrite line for the message" 1 "$(grep -c . <<<"$line")"
	check "(a) the rewrite line is under 2048 octets" test "${#line}" -lt 2100
}

# (b) one outbound message to LIMITS_RCPTS recipients
case_b() {
	local out accepted reply qid code line hwm
	out=$(python3 - "$E2E_SMTP_PORT" "$LIMITS_RCPTS" <<-'PY'
		import re, socket, sys
		port, n = int(sys.argv[1]), int(sys.argv[2])
		s = socket.create_connection(("127.0.0.1", port), timeout=300)
		f = s.makefile("rb")
		def reply():
		    while True:
		        line = f.readline()
		        if not line:
		            raise SystemExit("connection closed")
		        if line[3:4] != b"-":
		            return int(line[:3]), line.decode(errors="replace").strip()
		reply()
		s.sendall(b"EHLO client.e2e.test\r\n"); reply()
		s.sendall(b"MAIL FROM:<alice@example.nl>\r\n")
		code, text = reply()
		if code != 250:
		    print(0, text); sys.exit(0)
		ok = 0
		for start in range(0, n, 500):
		    end = min(n, start + 500)
		    s.sendall(b"".join(b"RCPT TO:<r%d@remote.example>\r\n" % i for i in range(start, end)))
		    for _ in range(start, end):
		        code, text = reply()
		        ok += code == 250
		s.sendall(b"DATA\r\n")
		code, text = reply()
		if code != 354:
		    print(ok, text); sys.exit(0)
		s.sendall(b"From: alice@example.nl\r\nTo: undisclosed-recipients:;\r\n"
		          b"Subject: many\r\nMessage-ID: <many@e2e.test>\r\n\r\nEND case-b\r\n.\r\n")
		code, text = reply()
		s.sendall(b"QUIT\r\n")
		m = re.search(r"queued as ([0-9A-Za-z]+)", text)
		print(ok, code, m.group(1) if m else text)
	PY
	)
	read -r accepted reply <<<"$out"
	expect_eq "(b) Postfix and the milter accepted every RCPT" "$LIMITS_RCPTS" "$accepted"
	expect_match "(b) Postfix accepted the message (250)" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	check "(b) the milter rewrote it" e2e_wait_until 120 "the rewrite of $qid" has_code "$qid"
	code=$(code_of "$qid")
	line=$(log_for "$qid" 'rewrite ')
	expect_match "(b) the rewrite line says nrcpt=$LIMITS_RCPTS" " nrcpt=$LIMITS_RCPTS( |$)" "$line"
	expect_eq "(b) the send record holds every recipient" "$LIMITS_RCPTS" \
		"$(e2e_sql "SELECT count(*) FROM send_rcpts r JOIN sends s ON s.id = r.send_id WHERE s.code = '$code'")"
	expect_eq "(b) the last recipient is in the record" "r$((LIMITS_RCPTS - 1))@remote.example" \
		"$(e2e_sql "SELECT r.rcpt FROM send_rcpts r JOIN sends s ON s.id = r.send_id WHERE s.code = '$code' AND r.rcpt LIKE '%r$((LIMITS_RCPTS - 1))@%'")"
	hwm=$(hwm_kb)
	note "milter VmHWM after $LIMITS_RCPTS recipients: $hwm kB"
	check_rss "(b) the milter's peak RSS stayed under 128 MB ($hwm kB)" 131072 "$hwm"
}

# (c) a LIMITS_BIG_MB MB bounce
case_c() {
	local code reply qid hwm0 hwm line
	code=$(outbound_code case-c)
	expect_match "(c) an outbound message got a code" "^$CODE_RE$" "$code"
	{
		dsn_head "$code"
		printf -- '--B0\r\nContent-Type: message/rfc822\r\n\r\n'
		printf 'From: alice@example.nl\r\nTo: bob@remote.example\r\nSubject: case-c\r\n'
		printf 'Message-ID: <case-c@e2e.test>\r\nContent-Type: text/plain\r\n\r\n'
		python3 -c '
import sys
line = b"x" * 76 + b"\r\n"
block = line * 13797  # 1 MiB
for _ in range(int(sys.argv[1])):
    sys.stdout.buffer.write(block)
' "$LIMITS_BIG_MB"
		printf '\r\n--B0--\r\n'
	} >"$E2E_DIR/state/c.eml"
	note "bounce size: $(stat -c %s "$E2E_DIR/state/c.eml") octets"
	hwm0=$(hwm_kb)
	reply=$(send_dsn "$code" "$E2E_DIR/state/c.eml")
	expect_match "(c) Postfix took the bounce (250; the milter discards it)" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	check "(c) the milter logged the event" e2e_wait_until 60 "the event of $qid" has_event_line "$qid"
	expect_eq "(c) the event is recorded: bob, hard bounce, 5.1.1" "bob@remote.example|hard|5.1.1" \
		"$(event_of "$code" "recipient || '|' || class || '|' || status")"
	line=$(log_for "$qid" 'limits: message larger than MaxInboundSize')
	expect_eq "(c) one line says only the first part was parsed" 1 "$(grep -c . <<<"$line")"
	hwm=$(hwm_kb)
	note "milter VmHWM before $hwm0 kB, after the bounce $hwm kB"
	check_rss "(c) the milter's peak RSS grew by less than 40 MB ($hwm0 -> $hwm kB)" \
		40960 $((hwm - hwm0))
}

# (d) MIME nested 50 deep inside a bounce
case_d() {
	local code reply qid i line
	code=$(outbound_code case-d)
	expect_match "(d) an outbound message got a code" "^$CODE_RE$" "$code"
	{
		dsn_head "$code"
		for ((i = 1; i <= 50; i++)); do
			printf -- '--B%d\r\nContent-Type: multipart/mixed; boundary="B%d"\r\n\r\n' \
				$((i - 1)) "$i"
		done
		printf -- '--B50\r\nContent-Type: text/plain\r\n\r\ndeep\r\n'
		for ((i = 50; i >= 0; i--)); do
			printf -- '--B%d--\r\n' "$i"
		done
	} >"$E2E_DIR/state/d.eml"
	reply=$(send_dsn "$code" "$E2E_DIR/state/d.eml")
	expect_match "(d) Postfix took the bounce (250)" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	check "(d) the milter logged the event" e2e_wait_until "$E2E_TIMEOUT" "the event of $qid" has_event_line "$qid"
	expect_eq "(d) the event is recorded: bob, hard bounce" "bob@remote.example|hard" \
		"$(event_of "$code" "recipient || '|' || class")"
	line=$(log_for "$qid" 'limits: .*MIME nesting deeper than 8 levels skipped')
	expect_eq "(d) one 'limits:' line names the nesting limit" 1 "$(grep -c . <<<"$line")"
}

# (e) NUL octets, invalid UTF-8 and a bare CR in a bounce
case_e() {
	local code reply qid line json
	code=$(outbound_code case-e)
	expect_match "(e) an outbound message got a code" "^$CODE_RE$" "$code"
	{
		printf 'From: MAILER-DAEMON@remote.example\r\nTo: %s@%s\r\n' "$code" "$FB"
		printf 'Subject: Undeliverable: caf\xe9 \xff\xfe \x00 nul\r\n'
		printf 'MIME-Version: 1.0\r\n'
		printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="B0"\r\n\r\n'
		printf -- '--B0\r\nContent-Type: text/plain\r\n\r\nnot delivered \xc0\xaf \x00\r\n\r\n'
		printf -- '--B0\r\nContent-Type: message/delivery-status\r\n\r\n'
		printf 'Reporting-MTA: dns; mx.remote.example\r\n\r\n'
		printf 'Final-Recipient: rfc822; bob@remote.example\r\nAction: failed\r\n'
		printf 'Status: 5.1.1\r\n'
		printf 'Diagnostic-Code: smtp; 550 5.1.1 no such user \xff\xfe\x00 here\rFAKE: x caf\xc3\xa9\r\n\r\n'
		printf -- '--B0--\r\n'
	} >"$E2E_DIR/state/e.eml"
	reply=$(send_dsn "$code" "$E2E_DIR/state/e.eml")
	expect_match "(e) Postfix took the bounce (250)" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	check "(e) the milter logged the event" e2e_wait_until "$E2E_TIMEOUT" "the event of $qid" has_event_line "$qid"
	expect_eq "(e) the event is recorded: bob, hard bounce, 5.1.1" "bob@remote.example|hard|5.1.1" \
		"$(event_of "$code" "recipient || '|' || class || '|' || status")"
	line=$(log_for "$qid" 'bounce code=')
	expect_eq "(e) one event line for the bounce" 1 "$(grep -c . <<<"$line")"
	check "(e) the event line has no raw control octet" \
		python3 -c 'import sys; l = sys.argv[1].encode("utf-8", "surrogateescape"); sys.exit(any(c < 0x20 and c != 9 or c == 0x7f for c in l))' "$line"
	check "(e) the milter log is valid UTF-8 (invalid octets escaped)" \
		python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$E2E_DIR/milter.log"
	expect_no_match "(e) no log line starts with the injected text" '(^|[^=])FAKE: x' \
		"$(grep -a '^FAKE' "$E2E_DIR/milter.log" || true)"
	json=$(e2e_ctl events --json 2>&1 | grep -a "$code" || true)
	check "(e) feedbackctl events --json: valid UTF-8 JSON" \
		python3 -c 'import json, sys; [json.loads(l) for l in sys.stdin.buffer.read().decode("utf-8").splitlines()]' <<<"$json"
	check "(e) feedbackctl events --json: the event is there" test -n "$json"
}

# (z) clean log, clean stop
case_z() {
	local pid
	pid=$(e2e_milter_pid)
	e2e_milter_stop
	check "(z) the milter (pid $pid) exited on SIGTERM" e2e_pid_gone "$pid"
	if e2e_milter_log_clean; then
		pass "(z) no sanitizer or valgrind report in the milter log"
	else
		fail "(z) no sanitizer or valgrind report in the milter log" \
			"$(grep -aE -m 5 'Sanitizer|runtime error:|^==[0-9]+== ' "$E2E_DIR/milter.log")"
	fi
}

# --------------------------------------------------------------------------

setup_postfix() {
	e2e_postfix_setup
	printf '%s\t%s\n' "$FB" "discard:" "remote.example" "discard:" >"$E2E_PF/transport"
	e2e_postconf "relay_domains = remote.example, $FB" \
		"transport_maps = texthash:$E2E_PF/transport" \
		"message_size_limit = $(((LIMITS_BIG_MB + 30) * 1048576))" \
		"smtpd_recipient_limit = $LIMITS_RCPTS" \
		"smtpd_recipient_overshoot_limit = $((LIMITS_RCPTS + 1000))" \
		"smtpd_hard_error_limit = 1000000" "smtpd_soft_error_limit = 1000000" \
		"milter_content_timeout = 600s" "milter_command_timeout = 120s"
}

main() {
	checks_begin checks_on_exit
	read -r E2E_SMTP_PORT E2E_SINK_PORT DEAD_PORT < <(e2e_free_ports 3)
	e2e_sink_start --no-dump
	setup_postfix
	# no DNS server answers: SPF for a loopback client passes without one,
	# and no DKIM signature is checked
	e2e_milter_config "${BASE_CONFIG[@]}" "Nameservers 127.0.0.1@$DEAD_PORT"
	e2e_postfix_start
	e2e_milter_start
	run_case "(a) oversized headers" case_a
	run_case "(b) $LIMITS_RCPTS recipients" case_b
	run_case "(c) a $LIMITS_BIG_MB MB bounce" case_c
	run_case "(d) deep MIME nesting" case_d
	run_case "(e) NUL, invalid UTF-8, bare CR" case_e
	run_case "(z) clean stop" case_z
	summary
	(($(count FAIL) == 0))
}

main "$@"
