#!/bin/bash
#
# tests/e2e/security.sh - end-to-end security checks of feedback-milter:
# privileges, file and socket permissions, configuration errors, hostile
# values in the store and the log, and a small flood of forged codes.
#
#   client ──▶ private Postfix (127.0.0.1, feedback-milter) ──▶ smtp-sink
#
# Cases:
#   (a) started as root without UserID: exit 78 (EX_CONFIG) and a message
#   (b) with UserID: runs as that user (ps, /proc/PID/status), the unix
#       socket has SocketMode and UserID as owner
#   (c) a key file readable by others (0644) is refused with the file name
#       and chmod advice (exit 78); 0640 is accepted
#   (d) -n names file:line: option for an unknown option
#   (e) SQL metacharacters in the Message-ID and a recipient are stored
#       literally (feedbackctl decode gives them back; the tables are there)
#   (f) CR/LF in a Message-ID reaches the log escaped, on one line
#   (g) forged codes (tests/bench/forged-load.py, FORGED_N, default 2000):
#       every RCPT refused with 550 5.1.1, no event recorded, no send made
#
# Run as root: tests/e2e/security.sh. Prints one line per check and closes
# with "N passed, M failed"; exits non-zero if any check failed. FM_BUILD_DIR
# and the other variables of tests/e2e/README are honoured.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

FB=feedback.example.nl
FORGED_N=${FORGED_N:-2000}
FORGED_LOAD=${FORGED_LOAD:-$E2E_TOP/tests/bench/forged-load.py}
BASE_CONFIG=(
	"SenderDomain example.nl"
	"TrustedClients 127.0.0.0/8, ::1/128"
	"DatabaseBusyTimeout 1s"
	"InboundAction discard"
)

# --------------------------------------------------------------------------
# Helpers

# milter_try CONF ARGS... - run the daemon (bounded by a timeout) with a
# configuration; print "EXIT-STATUS" then its output
milter_try() {
	local conf=$1 rc=0 out
	shift
	out=$(timeout -k 5 "$E2E_TIMEOUT" "$FEEDBACK_MILTER" -c "$conf" "$@" 2>&1) || rc=$?
	printf '%s\n%s\n' "$rc" "$out"
}

# conf_variant NAME [SED-EXPR] - a copy of the configuration, edited
conf_variant() {
	local out=$E2E_DIR/state/$1.conf
	sed -e "${2:-}" "$E2E_MILTER_CONF" >"$out"
	echo "$out"
}

# evq COLUMNS WHERE - event rows
evq() { e2e_sql "SELECT $1 FROM events WHERE $2 ORDER BY id"; }

# code_of QID - the code the milter logged for a queue id
code_of() {
	sed -n "s/^.* $1: rewrite code=\([0-9a-z]*\) .*/\1/p" "$E2E_DIR/milter.log" | head -n 1
}

# wait_code QID - wait until the milter logged the rewrite of QID
wait_code() {
	e2e_wait_until "$E2E_TIMEOUT" "the rewrite of $1" test -n "$(code_of "$1")" 2>/dev/null ||
		e2e_wait_until "$E2E_TIMEOUT" "the rewrite of $1" has_code "$1"
}
has_code() { [[ -n $(code_of "$1") ]]; }

# --------------------------------------------------------------------------
# Cases

# (a) root without UserID
case_a() {
	local conf res rc out
	conf=$(conf_variant no-user '/^UserID /d')
	res=$(milter_try "$conf" -f)
	rc=$(head -n 1 <<<"$res")
	out=$(tail -n +2 <<<"$res")
	expect_eq "(a) as root without UserID: exit 78 (EX_CONFIG)" 78 "$rc"
	expect_match "(a) the message names the file, UserID and root" \
		"$conf: UserID: refusing to run as root" "$out"
	conf=$(conf_variant root-user 's/^UserID .*/UserID root/')
	res=$(milter_try "$conf" -f)
	expect_eq "(a) UserID root: exit 78" 78 "$(head -n 1 <<<"$res")"
	expect_match "(a) UserID root: refused with a message" "refusing to run as root" \
		"$(tail -n +2 <<<"$res")"
	check "(a) no socket was left behind" test ! -S "$E2E_DIR/run/feedback-milter.sock"
}

# (b) privileges and the socket, on the running milter
case_b() {
	local pid uid gid user status
	pid=$(e2e_milter_pid)
	uid=$(id -u "$E2E_MILTER_USER")
	gid=$(id -g "$E2E_MILTER_USER")
	user=$(ps -o user= -p "$pid" | tr -d ' ')
	expect_eq "(b) ps: the milter runs as $E2E_MILTER_USER" "$E2E_MILTER_USER" "$user"
	status=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
	expect_eq "(b) /proc/PID/status: real, effective, saved and fs uid" \
		"$uid $uid $uid $uid" "$status"
	status=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
	expect_eq "(b) /proc/PID/status: gids" "$gid $gid $gid $gid" "$status"
	expect_eq "(b) no capabilities left (CapEff)" 0000000000000000 \
		"$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")"
	expect_eq "(b) the socket: mode 660 (SocketMode 0660), owner $E2E_MILTER_USER" \
		"socket 660 $E2E_MILTER_USER" \
		"$(stat -c '%F %a %U' "$E2E_MILTER_SOCK" | sed 's/^socket /socket /')"
	expect_eq "(b) the pid file names the process" "$pid" \
		"$(tr -d ' \n' <"$E2E_DIR/run/feedback-milter.pid")"
	expect_eq "(b) the database belongs to $E2E_MILTER_USER" "$E2E_MILTER_USER" \
		"$(stat -c %U "$E2E_DIR/db/feedback.db")"
}

# (b2) another SocketMode, on a second milter on its own socket
case_b2() {
	local conf sock pid rc=0
	sock=$E2E_DIR/run/b2.sock
	conf=$(conf_variant b2 "s|^Socket .*|Socket unix:$sock|;s|^SocketMode .*|SocketMode 0600|;s|^PidFile .*|PidFile $E2E_DIR/run/b2.pid|;s|^Database .*|Database $E2E_DIR/db/b2.db|")
	"$FEEDBACK_MILTER" -c "$conf" -f >>"$E2E_DIR/milter-b2.log" 2>&1 &
	pid=$!
	e2e_pid_save milter-b2 "$pid"
	e2e_wait_until "$E2E_TIMEOUT" "the socket $sock" test -S "$sock" || rc=1
	expect_eq "(b2) SocketMode 0600: socket mode 600, owner $E2E_MILTER_USER" \
		"0 600 $E2E_MILTER_USER" "$rc $(stat -c '%a %U' "$sock" 2>/dev/null)"
	e2e_stop_pid "$pid" milter-b2 30
	e2e_pid_forget milter-b2
}

# (b3) UserID plants symbolic links where the root-run start writes: a
# pid file link is refused, not followed (the milter runs on); a socket
# path link makes libmilter refuse to start; the file they point at keeps
# its owner, mode and content
case_b3() {
	local conf sock pidf pid rc=0 target=$E2E_DIR/state/b3-target
	sock=$E2E_DIR/run/b3.sock
	pidf=$E2E_DIR/run/b3.pid
	printf 'root file\n' >"$target"
	chmod 0600 "$target"
	ln -sf "$target" "$pidf"
	conf=$(conf_variant b3 "s|^Socket .*|Socket unix:$sock|;s|^PidFile .*|PidFile $pidf|;s|^Database .*|Database $E2E_DIR/db/b3.db|")
	"$FEEDBACK_MILTER" -c "$conf" -f >>"$E2E_DIR/milter-b3.log" 2>&1 &
	pid=$!
	e2e_pid_save milter-b3 "$pid"
	check "(b3) with a link at the pid file path the milter starts on $sock" \
		e2e_wait_until "$E2E_TIMEOUT" "the socket $sock" test -S "$sock"
	check "(b3) ... and refuses the link, saying so" \
		grep -q "cannot write $pidf (a symbolic link is refused)" "$E2E_DIR/milter-b3.log"
	expect_eq "(b3) ... the socket belongs to $E2E_MILTER_USER" "$E2E_MILTER_USER" "$(stat -c %U "$sock")"
	e2e_stop_pid "$pid" milter-b3 30
	e2e_pid_forget milter-b3
	rm -f "$pidf" "$sock"
	ln -sf "$target" "$sock"
	"$FEEDBACK_MILTER" -c "$conf" -f >>"$E2E_DIR/milter-b3.log" 2>&1 || rc=$?
	expect_eq "(b3) with a link at the socket path the milter refuses to start (exit 71)" 71 "$rc"
	check "(b3) ... saying it cannot open the socket" \
		grep -q "cannot open the socket unix:$sock" "$E2E_DIR/milter-b3.log"
	expect_eq "(b3) the file the links pointed at is unchanged (owner, mode, content)" \
		"root 600 root file" "$(stat -c '%U %a' "$target") $(cat "$target")"
}

# (c) key file modes
case_c() {
	local keys=$E2E_DIR/run/feedback-milter.keys res
	chmod 0644 "$keys"
	res=$(milter_try "$E2E_MILTER_CONF" -n)
	chmod 0600 "$keys"
	expect_eq "(c) key file 0644: -n exits 78" 78 "$(head -n 1 <<<"$res")"
	expect_match "(c) the message names the file and says chmod" \
		"$keys: mode 0644 .*chmod 600 $keys" "$(tail -n +2 <<<"$res")"
	chmod 0644 "$keys"
	res=$(milter_try "$E2E_MILTER_CONF" -f)
	chmod 0600 "$keys"
	expect_eq "(c) key file 0644: the daemon does not start (exit 78)" 78 "$(head -n 1 <<<"$res")"
	chmod 0660 "$keys"
	res=$(milter_try "$E2E_MILTER_CONF" -n)
	chmod 0600 "$keys"
	expect_eq "(c) key file 0660 (group may write): exit 78" 78 "$(head -n 1 <<<"$res")"
	chmod 0640 "$keys"
	res=$(milter_try "$E2E_MILTER_CONF" -n)
	chmod 0600 "$keys"
	expect_eq "(c) key file 0640: accepted (-n exits 0)" 0 "$(head -n 1 <<<"$res")"
	res=$(milter_try "$E2E_MILTER_CONF" -n)
	expect_eq "(c) key file 0600: accepted" 0 "$(head -n 1 <<<"$res")"
}

# (d) -n and a bad option
case_d() {
	local conf res line
	conf=$(conf_variant bad-option '$a\
BogusOption yes')
	line=$(wc -l <"$conf")
	res=$(milter_try "$conf" -n)
	expect_eq "(d) -n with an unknown option: exit 78" 78 "$(head -n 1 <<<"$res")"
	expect_match "(d) the message is file:line: option" \
		"^feedback-milter: $conf:$line: BogusOption: unknown option" "$(tail -n +2 <<<"$res")"
	conf=$(conf_variant bad-value 's/^SocketMode .*/SocketMode 9999/')
	line=$(grep -n '^SocketMode' "$conf" | cut -d: -f1)
	res=$(milter_try "$conf" -n)
	expect_eq "(d) -n with a bad SocketMode: exit 78" 78 "$(head -n 1 <<<"$res")"
	expect_match "(d) the message is file:line: SocketMode" \
		"$conf:$line: SocketMode" "$(tail -n +2 <<<"$res")"
}

# (e) SQL metacharacters are stored literally
case_e() {
	local msgid rcpt reply qid code got
	msgid="<e'); DROP TABLE sends; --@e2e.test>"
	rcpt="\"x'); DROP TABLE send_rcpts; --\"@remote.example"
	{
		printf 'From: alice@example.nl\r\nTo: %s\r\nSubject: sql\r\n' "$rcpt"
		printf 'Message-ID: %s\r\nDate: %s\r\n\r\nEND case-e\r\n' "$msgid" "$(date -R)"
	} >"$E2E_DIR/state/e.eml"
	reply=$(e2e_smtp_raw alice@example.nl "$rcpt" "$E2E_DIR/state/e.eml")
	expect_match "(e) Postfix accepted the message (250)" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	check "(e) the milter rewrote it" e2e_wait_until "$E2E_TIMEOUT" "the rewrite of $qid" has_code "$qid"
	code=$(code_of "$qid")
	expect_match "(e) a code was made" "^$CODE_RE$" "$code"
	got=$(e2e_ctl decode --json "$code" | e2e_json_get send.msgid)
	[[ -n $got ]] || got=$(e2e_ctl decode --json "$code" | e2e_json_get msgid)
	expect_eq "(e) feedbackctl decode: the Message-ID verbatim" "$msgid" "$got"
	expect_eq "(e) sends.msgid verbatim (sqlite3)" "$msgid" \
		"$(e2e_sql "SELECT msgid FROM sends WHERE code='$code'")"
	expect_eq "(e) send_rcpts.rcpt verbatim" "$rcpt" \
		"$(e2e_sql "SELECT r.rcpt FROM send_rcpts r JOIN sends s ON s.id = r.send_id WHERE s.code='$code'" |
			sed 's/^<\(.*\)>$/\1/')"
	expect_eq "(e) the tables are all still there" "events send_rcpts sends" \
		"$(e2e_sql "SELECT name FROM sqlite_master WHERE type='table' AND name IN ('sends','send_rcpts','events') ORDER BY name" | tr '\n' ' ' | sed 's/ $//')"
	check "(e) integrity_check ok" test "$(e2e_sql 'PRAGMA quick_check')" = ok
}

# f_send LABEL NAME MSGID - send alice -> bob a message whose Message-ID
# field is the printf format MSGID (escapes, folding); Postfix must take
# it and the milter rewrite it. Sets F_QID.
f_send() {
	local reply f=$E2E_DIR/state/$2.eml
	{
		printf 'From: alice@example.nl\r\nTo: bob@remote.example\r\nSubject: %s\r\n' "$2"
		# shellcheck disable=SC2059
		printf "$3\\r\\n"
		printf 'Date: %s\r\n\r\nEND %s\r\n' "$(date -R)" "$2"
	} >"$f"
	reply=$(e2e_smtp_raw alice@example.nl bob@remote.example "$f")
	expect_match "$1 Postfix accepted the message (250)" '^250 [0-9A-Za-z]+$' "$reply"
	F_QID=${reply#250 }
	check "$1 the milter rewrote it" e2e_wait_until "$E2E_TIMEOUT" "the rewrite of $F_QID" has_code "$F_QID"
}

# (f) CR/LF in a Message-ID: escaped, on one line
case_f() {
	local qid line before
	before=$(wc -l <"$E2E_DIR/milter.log")
	f_send "(f)" case-f 'Message-ID: <f1@e2e.test>\r\n FAKE: reject code=forgedline rcpt=<x@y> why=injected'
	qid=$F_QID
	line=$(grep -F " $qid: rewrite " "$E2E_DIR/milter.log" || true)
	expect_eq "(f) one rewrite line for the message" 1 "$(grep -c . <<<"$line")"
	# unfolded (CRLF removed, as RFC 5322 says) or escaped: either way
	# the injected text stays inside the quoted msgid value
	expect_match "(f) the folded Message-ID is inside the quoted msgid value" \
		'msgid="<f1@e2e\.test>(\\r|\\n|\\t|\\x0[0-9a-f]| |\t)*FAKE: reject code=forgedline rcpt=<x@y> why=injected"' "$line"
	expect_eq "(f) no log line starts with the injected text" "" \
		"$(tail -n +"$((before + 1))" "$E2E_DIR/milter.log" | grep -E '^[[:space:]]*FAKE|^ FAKE|reject code=forgedline' | grep -vF " $qid: rewrite " || true)"
	# terminal escapes (ESC, and C1 CSI as UTF-8) and a stray 8-bit octet
	# in a Message-ID: feedbackctl decode shows '?' for the controls, and
	# its JSON stays valid UTF-8
	f_send "(f) with escapes:" case-f2 'Message-ID: <f2\033]0;owned\007\302\2338m\351@e2e.test>'
	qid=$F_QID
	"$FEEDBACKCTL" -c "$E2E_MILTER_CONF" decode "$(code_of "$qid")" >"$E2E_DIR/state/f2.out" 2>&1 || true
	check "(f) decode prints the Message-ID" grep -q '^message-id: .*f2' "$E2E_DIR/state/f2.out"
	check "(f) ... without ESC, BEL or C1 controls" python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
sys.exit(1 if (b"\x1b" in b or b"\x07" in b or b"\xc2\x9b" in b) else 0)' "$E2E_DIR/state/f2.out"
	"$FEEDBACKCTL" -c "$E2E_MILTER_CONF" decode --json "$(code_of "$qid")" >"$E2E_DIR/state/f2.json" 2>&1 || true
	check "(f) decode --json is valid UTF-8 JSON" python3 -c '
import json, sys
json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$E2E_DIR/state/f2.json"
}

# (g) forged codes at RCPT
case_g() {
	local sends0 events0 lines0 out rc=0
	sends0=$(e2e_sql "SELECT count(*) FROM sends")
	events0=$(e2e_sql "SELECT count(*) FROM events")
	lines0=$(wc -l <"$E2E_DIR/milter.log")
	out=$(python3 "$FORGED_LOAD" --port "$E2E_SMTP_PORT" --domain "$FB" \
		--count "$FORGED_N" --sessions 8 --per-txn 50 --txns-per-session 5 \
		--time-limit 300 --key-file "$E2E_DIR/run/feedback-milter.keys") || rc=$?
	echo "# forged-load: $out"
	expect_eq "(g) forged-load: $FORGED_N RCPTs, all 550 5.1.1 (exit 0)" 0 "$rc"
	expect_eq "(g) zero accepted" 0 "$(e2e_json_get accepted <<<"$out")"
	expect_eq "(g) every attempt answered" "$FORGED_N" "$(e2e_json_get attempts <<<"$out")"
	sleep 1
	expect_eq "(g) no event recorded" "$events0" "$(e2e_sql "SELECT count(*) FROM events")"
	expect_eq "(g) no send made" "$sends0" "$(e2e_sql "SELECT count(*) FROM sends")"
	sleep 1
	local lines rejects summaries secs
	# the summary of an interval is written when it ends (the milter's
	# once-a-second tick): give it the interval and a little more
	if grep -aq 'reject summary' "$FEEDBACK_MILTER"; then
		e2e_wait_until 15 "the reject summary" \
			e2e_log_after "$E2E_DIR/milter.log" "$lines0" 'reject summary:' || true
	fi
	lines=$(($(wc -l <"$E2E_DIR/milter.log") - lines0))
	rejects=$(tail -n +"$((lines0 + 1))" "$E2E_DIR/milter.log" | grep -c ' reject code=' || true)
	summaries=$(tail -n +"$((lines0 + 1))" "$E2E_DIR/milter.log" | grep -c 'reject summary:' || true)
	secs=$(e2e_json_get seconds <<<"$out")
	secs=${secs%.*}
	echo "# milter log lines during the flood: $lines (reject: $rejects, summary: $summaries)"
	# with the rate limiter (10 per 10 s, then one summary per 10 s) the
	# log is bounded by the duration, not by the number of attempts
	if grep -aq 'reject summary' "$FEEDBACK_MILTER"; then
		expect_eq "(g) reject lines bounded: at most 10 per 10 s" yes \
			"$(((rejects <= 10 * (secs / 10 + 2))) && echo yes || echo "no ($rejects in ${secs}s)")"
		if ((FORGED_N > 10 * (secs / 10 + 2))); then
			expect_match "(g) a reject summary was logged" '^[1-9]' "$summaries"
		fi
	else
		echo "# (the milter has no reject rate limiter: one line per refused code)"
	fi
	check "(g) the milter is still running" e2e_pid_alive "$(e2e_milter_pid)"
}

# (z) clean log, clean stop
case_z() {
	check "(z) no sanitizer report in the milter log" e2e_milter_log_clean
}

# --------------------------------------------------------------------------

# (h) a recipient of one message reads its code from Return-Path and sends
# a DSN to it naming two other addresses as failed: the events are kept
# (with the reported addresses) but nobody is suppressed; a DSN about the
# send's own recipient still suppresses it
case_h() {
	local reply qid code dsn=$E2E_DIR/state/h.eml
	reply=$(e2e_smtp_send case-h alice@example.nl bob-h@remote.example)
	expect_match "(h) Postfix accepted the message (250)" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	check "(h) the milter rewrote it" e2e_wait_until "$E2E_TIMEOUT" "the rewrite of $qid" has_code "$qid"
	code=$(code_of "$qid")
	h_dsn() {
		local b=h-boundary r
		printf 'From: MAILER-DAEMON@mx.attacker.example\r\nTo: <%s@%s>\r\n' "$code" "$FB"
		printf 'Subject: Undelivered Mail\r\nMIME-Version: 1.0\r\n'
		printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="%s"\r\n\r\n' "$b"
		printf -- '--%s\r\nContent-Type: text/plain\r\n\r\nfailed\r\n' "$b"
		printf -- '--%s\r\nContent-Type: message/delivery-status\r\n\r\n' "$b"
		printf 'Reporting-MTA: dns; mx.attacker.example\r\n'
		for r in "$@"; do
			printf '\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\n' "$r"
		done
		printf -- '--%s--\r\n' "$b"
	}
	h_dsn victim1@elsewhere.example victim2@elsewhere.example >"$dsn"
	reply=$(e2e_swaks_in "$dsn" "$code@$FB" 203.0.113.9 "<>" mx.attacker.example)
	expect_match "(h) the DSN naming two other addresses is taken (250)" '^250 ' "$reply"
	check "(h) ... its two events are recorded" e2e_wait_until "$E2E_TIMEOUT" "two events" \
		test "$(evq "count(*)" "code='$code' AND recipient LIKE 'victim%'")" = 2
	expect_eq "(h) ... and nobody is suppressed" 0 \
		"$(e2e_sql "SELECT count(*) FROM suppressions WHERE address LIKE 'victim%'")"
	expect_eq "(h) ... the events say their recipient is not the send's (of_send 0)" "0 0" \
		"$(evq of_send "code='$code' AND recipient LIKE 'victim%'" | paste -sd ' ')"
	expect_eq "(h) ... and so does feedbackctl events --json" "false false" \
		"$(e2e_ctl events --json --code "$code" | python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["of_send"]).lower() for l in sys.stdin))')"
	h_dsn bob-h@remote.example other@elsewhere.example >"$dsn"
	reply=$(e2e_swaks_in "$dsn" "$code@$FB" 203.0.113.9 "<>" mx.attacker.example)
	expect_match "(h) a DSN about the send's own recipient is taken (250)" '^250 ' "$reply"
	check "(h) ... and suppresses that recipient only" e2e_wait_until "$E2E_TIMEOUT" "the suppression" \
		test "$(e2e_sql "SELECT group_concat(address) FROM suppressions WHERE address IN ('bob-h@remote.example', 'other@elsewhere.example')")" = bob-h@remote.example
	expect_eq "(h) ... its event is the send's (of_send 1)" 1 \
		"$(evq of_send "code='$code' AND recipient = 'bob-h@remote.example'")"
	# a message to a code is consumed whole: no other recipient beside it
	reply=$(e2e_smtp_send case-h2 "" "$code@$FB" postmaster@remote.example)
	expect_match "(h) a second, outside recipient beside a code is deferred (452 4.5.3)" \
		'^452 RCPT 4\.5\.3 ' "$reply"
	reply=$(e2e_smtp_send case-h3 alice@example.nl carol-h@remote.example "$code@$FB")
	expect_match "(h) a code beside an outside recipient is deferred (452 4.5.3)" \
		'^452 RCPT 4\.5\.3 ' "$reply"
}

setup_postfix() {
	e2e_postfix_setup
	printf '%s\t%s\n' "$FB" "smtp:[127.0.0.1]:$E2E_SINK_PORT" >"$E2E_PF/transport"
	# a flood of refused RCPTs must not be slowed or cut by smtpd's error
	# limits: the milter is what is measured
	e2e_postconf "relay_domains = remote.example, $FB" \
		"transport_maps = texthash:$E2E_PF/transport" \
		"smtpd_hard_error_limit = 1000000" "smtpd_soft_error_limit = 1000000" \
		"smtpd_error_sleep_time = 0" "smtpd_junk_command_limit = 1000000" \
		"smtpd_recipient_overshoot_limit = 1000000"
}

main() {
	checks_begin checks_on_exit
	read -r E2E_SMTP_PORT E2E_SINK_PORT < <(e2e_free_ports 2)
	e2e_sink_start --no-dump
	setup_postfix
	e2e_milter_config "${BASE_CONFIG[@]}"
	chmod 0600 "$E2E_DIR/run/feedback-milter.keys"
	run_case "(a) root without UserID" case_a
	run_case "(c) key file permissions" case_c
	run_case "(d) -n reports file:line: option" case_d
	e2e_milter_start
	e2e_postfix_start
	echo "# work directory $E2E_DIR; Postfix on 127.0.0.1:$E2E_SMTP_PORT, sink on 127.0.0.1:$E2E_SINK_PORT"
	run_case "(b) privileges and socket" case_b
	run_case "(b2) SocketMode 0600" case_b2
	run_case "(b3) planted symbolic links" case_b3
	run_case "(e) SQL metacharacters stored literally" case_e
	run_case "(f) log injection" case_f
	run_case "(h) a DSN naming other addresses" case_h
	run_case "(g) forged codes ($FORGED_N)" case_g
	run_case "(z) clean log" case_z

	summary
	(($(count FAIL) == 0))
}

main "$@"
