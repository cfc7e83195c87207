#!/bin/bash
#
# tests/e2e/ops.sh - end-to-end tests of the operations commands of
# feedbackctl: suppression, stats, events (and --follow), prune; and of
# RejectSuppressed in the milter.
#
#   client ──▶ Postfix A (ours, 127.0.0.1, feedback-milter) ──▶ Postfix B
#                 ▲                                           (mx.remote.example:
#                 │                                            refuses unknown@ and
#                 └──────── bounces (A's own, and B's DSNs) ◀── nobody@ at RCPT,
#                                                              bounces full@)
#   NSD on loopback serves the test zones (SPF lookups of the milter).
#
# The bounces are real: A bounces a recipient that B refuses at RCPT (a hard
# bounce, userunknown), B bounces a recipient whose mailbox is full (a soft
# one). The milter records them as events and its follow-up rules (the
# defaults: hard at once, soft after 3 within 7 days) suppress recipients.
# feedbackctl then reads and changes the same store.
#
# Run as root from anywhere: tests/e2e/ops.sh
# Prints one line per check and closes with "N passed, M failed"; exits
# non-zero if any check failed. See tests/e2e/README.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

FB=feedback.example.nl
REJECT_TEXT="Suppressed recipient (ops test)"
BASE_CONFIG=()

# --------------------------------------------------------------------------
# Checks: tests/e2e/checks.sh. Each records PASS or FAIL in $RESULTS; a failed
# check returns 1, which ends the current case.

on_exit() {
	local rc=$1
	[[ -n $E2E_DIR && -d $E2E_DIR/pids ]] &&
		e2e_stop_pid "$(e2e_pid_read follow)" "feedbackctl events --follow" 5
	checks_on_exit "$rc"
}

# --------------------------------------------------------------------------
# Helpers

# ctl ARGS... - feedbackctl with the test configuration; stderr to a log
ctl() { e2e_ctl "$@" 2>>"$E2E_DIR/feedbackctl.log"; }

# ctl_rc ARGS... - the exit status of feedbackctl (output to the log)
ctl_rc() {
	local rc=0
	e2e_ctl "$@" >>"$E2E_DIR/feedbackctl.log" 2>&1 || rc=$?
	echo "$rc"
}

# sent - one more send made by this test (stats compares with the count)
sent() { echo x >>"$E2E_DIR/state/sends"; }
nsends() { wc -l <"$E2E_DIR/state/sends"; }

# send_out CASE TOKEN RCPT - alice@example.nl sends to RCPT through A;
# check the 250 and the code; print the code
send_out() {
	local name=$1 token=$2 reply qid code
	reply=$(e2e_smtp_send "$token" alice@example.nl "$3")
	expect_match "$name: Postfix accepted the outbound message" '^250 [0-9A-Za-z]+$' "$reply"
	sent
	qid=${reply#250 }
	code=$(sed -n "s/^.* $qid: rewrite code=\([0-9a-z]*\) .*/\1/p" "$E2E_DIR/milter.log" | head -n 1)
	expect_match "$name: the milter gave it a code" "^$CODE_RE$" "$code"
	echo "$code"
}

# evq COLUMNS WHERE - event rows, oldest first
evq() { e2e_sql "SELECT $1 FROM events WHERE $2 ORDER BY id"; }

has_event() { [[ -n $(evq id "$1") ]]; }

# wait_event CASE WHERE - wait until the store holds an event matching WHERE
wait_event() {
	check "$1: an event is recorded ($2)" \
		e2e_wait_until "$E2E_TIMEOUT" "an event with $2" has_event "$2"
}

# supp_json ADDRESS [ARGS...] - the line of suppression list --json for it
supp_json() {
	local addr=$1
	shift
	ctl suppression list --json "$@" | grep -F "\"address\":\"$addr\"" || true
}

# json_field KEY - one field of the JSON object on stdin (empty for null)
json_field() { e2e_json_get "$1"; }

# is_suppressed ADDRESS - the store holds an active suppression for it
is_suppressed() {
	[[ -n $(e2e_sql "SELECT address FROM suppressions WHERE address = '$1'
		AND (expires IS NULL OR expires > strftime('%s', 'now'))") ]]
}

# smtp_rcpts TOKEN FROM RCPT... - one SMTP transaction to A with several
# recipients; prints "RCPT ADDRESS CODE TEXT" per recipient, then
# "DATA CODE QUEUEID" when any was accepted
smtp_rcpts() {
	local token=$1 from=$2 msg
	shift 2
	msg=$(e2e_message "$token" "$from" "$1")
	python3 - "$E2E_SMTP_PORT" "$from" "$msg" "$@" <<-'PY'
		import re, smtplib, sys
		port, sender, msg = sys.argv[1:4]
		s = smtplib.SMTP("127.0.0.1", int(port), local_hostname="client.e2e.test", timeout=60)
		s.ehlo()
		s.mail(sender)
		ok = []
		for r in sys.argv[4:]:
		    code, text = s.rcpt(r)
		    print("RCPT", r, code, text.decode(errors="replace").replace("\n", " "))
		    if code in (250, 251):
		        ok.append(r)
		if ok:
		    code, text = s.data(msg)
		    m = re.search(r"queued as ([0-9A-Za-z]+)", text.decode(errors="replace"))
		    print("DATA", code, m.group(1) if m else "?")
		s.quit()
	PY
}

# milter_rejected ADDRESS - A logged a milter-reject at RCPT for ADDRESS
# with 550 5.1.1 and REJECT_TEXT
milter_rejected() {
	grep 'milter-reject: RCPT from ' "$E2E_DIR/postfix.log" |
		grep -F "550 5.1.1 $REJECT_TEXT;" | grep -qF "to=<$1>"
}

# reconfigure [EXTRA-LINE...] - the base configuration plus lines; SIGHUP
reconfigure() {
	e2e_milter_config_write "${BASE_CONFIG[@]}" "$@"
	check "the milter reloaded its configuration${1:+ ($*)}" e2e_milter_reload
}

# --------------------------------------------------------------------------
# Cases

# (a) a hard bounce suppresses its recipient
case_a() {
	local code line
	code=$(send_out "(a)" ops-a unknown@remote.example)
	echo "$code" >"$E2E_DIR/state/a.code"
	wait_event "(a)" "code='$code'"
	expect_eq "(a) event: class, reason" "hard|userunknown" "$(evq "class, reason" "code='$code'")"
	check "(a) the recipient is suppressed in the store" \
		e2e_wait_until "$E2E_TIMEOUT" "the suppression" is_suppressed unknown@remote.example
	line=$(supp_json unknown@remote.example)
	expect_match "(a) suppression list --json shows it" '"address":"unknown@remote.example"' "$line"
	expect_match "(a) ... with reason hard userunknown" '^hard userunknown' \
		"$(json_field reason <<<"$line")"
	expect_eq "(a) ... class hard" hard "$(json_field class <<<"$line")"
	expect_eq "(a) ... made by a rule" rule "$(json_field source <<<"$line")"
	expect_eq "(a) ... that does not expire" "" "$(json_field expires <<<"$line")"
	expect_eq "(a) ... caused by the event" "$(evq id "code='$code'")" \
		"$(json_field event_id <<<"$line")"
	expect_match "(a) the table lists it" \
		'unknown@remote\.example +hard userunknown.* +hard +[0-9-]+ [0-9:]+ +never +rule' \
		"$(ctl suppression list)"
	expect_match "(a) CSV: head line" '^address,reason,class,since,expires,source$' \
		"$(ctl suppression list --csv | head -n 1)"
	expect_match "(a) CSV: its row" '^unknown@remote\.example,hard userunknown[^,]*,hard,[0-9T:-]+Z,,rule$' \
		"$(ctl suppression list --csv | grep '^unknown@')"
}

# (b) one soft bounce does not suppress (soft needs 3 within 7 days)
case_b() {
	local code
	code=$(send_out "(b)" ops-b full@remote.example)
	wait_event "(b)" "code='$code'"
	expect_eq "(b) event: class, reason" "soft|mailboxfull" "$(evq "class, reason" "code='$code'")"
	expect_eq "(b) full@remote.example is not suppressed" "" "$(supp_json full@remote.example --all)"
	check "(b) ... nor in the store" test -z "$(e2e_sql "SELECT address FROM suppressions WHERE address = 'full@remote.example'")"
}

# (c) an operator's entry: add, list, remove, remove again
case_c() {
	local line now exp rc
	rc=$(ctl_rc suppression add '<Op@Example.ORG>' --reason "asked to stop" --expires 30d)
	expect_eq "(c) suppression add exits 0" 0 "$rc"
	line=$(supp_json op@example.org)
	expect_match "(c) listed in lowercase" '"address":"op@example.org"' "$line"
	expect_eq "(c) ... with the reason" "asked to stop" "$(json_field reason <<<"$line")"
	expect_eq "(c) ... source operator" operator "$(json_field source <<<"$line")"
	now=$(date +%s)
	exp=$(json_field expires <<<"$line")
	check "(c) ... expiring in 30 days" test "$((exp - now))" -ge $((30 * 86400 - 60)) -a "$((exp - now))" -le $((30 * 86400))
	rc=$(ctl_rc suppression add 'not an address')
	expect_eq "(c) add of a malformed address: exit 64" 64 "$rc"
	rc=$(ctl_rc suppression add x@example.org --expires 30)
	expect_eq "(c) add --expires without a unit: exit 64" 64 "$rc"
	rc=$(ctl_rc suppression remove OP@example.org)
	expect_eq "(c) suppression remove exits 0" 0 "$rc"
	expect_eq "(c) no longer listed" "" "$(supp_json op@example.org --all)"
	rc=0
	e2e_ctl suppression remove op@example.org >/dev/null 2>"$E2E_DIR/state/c.err" || rc=$?
	expect_eq "(c) removing it again: exit 1" 1 "$rc"
	expect_match "(c) ... saying so" 'op@example\.org: not suppressed' "$(cat "$E2E_DIR/state/c.err")"
}

# (d) export --postfix builds with postmap and answers REJECT
case_d() {
	local table=$E2E_DIR/state/suppressed n
	ctl suppression add "ctl@example.org" --reason $'caf\xc3\xa9 "quoted"   text' >/dev/null
	ctl suppression export --postfix >"$table"
	check "(d) postmap builds the table" postmap -c "$E2E_PF" "hash:$table"
	check "(d) ... into a .db" test -s "$table.db"
	expect_match "(d) postmap -q finds the suppressed address: REJECT reason" \
		'^REJECT hard userunknown' "$(postmap -c "$E2E_PF" -q unknown@remote.example "hash:$table")"
	expect_eq "(d) the reason is cut down to printable ASCII" 'REJECT caf? "quoted" text' \
		"$(postmap -c "$E2E_PF" -q ctl@example.org "hash:$table")"
	expect_eq "(d) an address that is not suppressed is not found" "" \
		"$(postmap -c "$E2E_PF" -q full@remote.example "hash:$table" || true)"
	check "(d) every line is a comment or ADDRESS REJECT TEXT" \
		test -z "$(grep -Ev '^(#.*|[^[:space:]#]+ REJECT [[:print:]]+)$' "$table")"
	n=$(ctl suppression export --json | wc -l)
	expect_eq "(d) export --json: one line per active suppression" \
		"$(e2e_sql "SELECT count(*) FROM suppressions WHERE expires IS NULL OR expires > strftime('%s','now')")" "$n"
	expect_eq "(d) export --csv parses as CSV with the same rows" "$n" \
		"$(ctl suppression export --csv | python3 -c 'import csv,sys; print(len(list(csv.DictReader(sys.stdin))))')"
	expect_eq "(d) export without a format: exit 64" 64 "$(ctl_rc suppression export)"
	ctl suppression remove ctl@example.org >/dev/null
}

# (e) RejectSuppressed yes: A refuses the suppressed recipient at RCPT with
# RejectSuppressedText; the other recipient of the message passes
case_e() {
	local out before
	before=$(wc -l <"$E2E_DIR/milter.log")
	reconfigure "RejectSuppressed yes" "RejectSuppressedText $REJECT_TEXT" \
		"SyslogFacility local3"
	check "(e) the reload warns that SyslogFacility needs a restart" \
		e2e_log_after "$E2E_DIR/milter.log" "$before" \
		'Syslog or SyslogFacility changed: takes effect at restart'
	out=$(smtp_rcpts ops-e alice@example.nl unknown@remote.example ok-e@remote.example)
	expect_eq "(e) the suppressed recipient is refused: 550 5.1.1 and the text" \
		"RCPT unknown@remote.example 550 5.1.1 $REJECT_TEXT" "$(grep '^RCPT unknown@' <<<"$out")"
	expect_match "(e) the other recipient passes" '^RCPT ok-e@remote\.example 25[01] ' \
		"$(grep '^RCPT ok-e@' <<<"$out")"
	expect_match "(e) the message is accepted for it" '^DATA 250 [0-9A-Za-z]+$' "$(grep '^DATA' <<<"$out")"
	grep -q '^DATA 250' <<<"$out" && sent
	check "(e) ... and delivered to B" e2e_wait_until "$E2E_TIMEOUT" "A to deliver to ok-e" \
		grep -q "to=<ok-e@remote\.example>.*status=sent" "$E2E_DIR/postfix.log"
	check "(e) A logged the refusal (milter-reject)" milter_rejected unknown@remote.example
	reconfigure
	out=$(smtp_rcpts ops-e2 alice@example.nl unknown@remote.example)
	expect_match "(e) with RejectSuppressed no again, it is accepted" '^RCPT unknown@remote\.example 250 ' "$out"
	grep -q '^DATA 250' <<<"$out" && sent
	# that message bounces again (another hard event)
	check "(e) ... and bounces again" e2e_wait_until "$E2E_TIMEOUT" "the second hard event" \
		test "$(evq "count(*)" "class='hard' AND recipient='unknown@remote.example'")" -ge 2
}

# (f) events: newest first, filters, formats
case_f() {
	local code line n
	code=$(cat "$E2E_DIR/state/a.code")
	line=$(ctl events --json | grep -F "\"code\":\"$code\"" | head -n 1)
	expect_eq "(f) events --json lists (a)'s bounce: class" hard "$(json_field class <<<"$line")"
	expect_eq "(f) ... recipient" unknown@remote.example "$(json_field recipient <<<"$line")"
	expect_eq "(f) ... reason, status" "userunknown 5.1.1" \
		"$(json_field reason <<<"$line") $(json_field status <<<"$line")"
	expect_eq "(f) ... sender of its send" alice@example.nl "$(json_field sender <<<"$line")"
	expect_eq "(f) ... its id" "$(evq id "code='$code'")" "$(json_field id <<<"$line")"
	expect_eq "(f) ... about its send's recipient (of_send)" true "$(json_field of_send <<<"$line")"
	expect_eq "(f) --csv: the last column is of_send, 1 for it" "of_send 1" \
		"$(ctl events --csv --code "$code" | python3 -c 'import csv,sys; r = list(csv.reader(sys.stdin)); print(r[0][-1], r[1][-1])')"
	expect_eq "(f) newest first" "$(e2e_sql "SELECT id FROM events ORDER BY id DESC" | tr '\n' ' ')" \
		"$(ctl events --json | python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["id"]) for l in sys.stdin), end=" ")')"
	n=$(ctl events --json --class soft | wc -l)
	expect_eq "(f) --class soft" "$(evq "count(*)" "class='soft'")" "$n"
	expect_eq "(f) --limit 1: one line" 1 "$(ctl events --json --limit 1 | wc -l)"
	expect_eq "(f) --domain example.nl: all (every event has a send of alice@example.nl)" \
		"$(evq "count(*)" "send_id IS NOT NULL")" "$(ctl events --json --domain example.nl | wc -l)"
	expect_eq "(f) --domain other.example: none" 0 "$(ctl events --json --domain other.example | wc -l)"
	expect_match "(f) the table has a head line" '^ID +TIME +CLASS +REASON +STATUS +RECIPIENT +SENDER$' \
		"$(ctl events | head -n 1)"
	expect_eq "(f) --csv parses, one row per event" "$(evq "count(*)" 1)" \
		"$(ctl events --csv | python3 -c 'import csv,sys; print(len(list(csv.DictReader(sys.stdin))))')"
	expect_eq "(f) --class bogus: exit 64" 64 "$(ctl_rc events --class bogus)"
}

# follow_has FILE ADDRESS - a JSON line about ADDRESS in FILE
follow_has() { grep -q "\"recipient\":\"$2\"" "$1"; }

# (g) events --follow prints a new bounce within seconds, ends on SIGTERM
case_g() {
	local out=$E2E_DIR/state/follow.out pid rc=0 code t0 t1 bad
	"$FEEDBACKCTL" -c "$E2E_MILTER_CONF" events --follow >"$out" 2>"$E2E_DIR/state/follow.err" &
	pid=$!
	e2e_pid_save follow "$pid"
	sleep 1.5
	check "(g) feedbackctl events --follow is running" e2e_pid_alive "$pid"
	check "(g) ... and printed no old event" test ! -s "$out"
	code=$(send_out "(g)" ops-g nobody@remote.example)
	wait_event "(g)" "code='$code'"
	t0=$(e2e_now_ms)
	check "(g) the new event is printed" e2e_wait_until 10 "the event in the --follow output" \
		follow_has "$out" nobody@remote.example
	t1=$(e2e_now_ms)
	check "(g) ... within 3 s of being recorded ($((t1 - t0)) ms)" test $((t1 - t0)) -le 3000
	bad=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    try:
        json.loads(l)
    except ValueError:
        print(l)
' "$out")
	expect_eq "(g) every line is a JSON object" "" "$bad"
	expect_eq "(g) it carries the code" "$code" "$(grep nobody@ "$out" | head -n 1 | json_field code)"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	e2e_pid_forget follow
	expect_eq "(g) it exits 0 on SIGTERM" 0 "$rc"
	rc=0
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout 20 bash -c '"$1" -c "$2" events --follow --limit 2 | head -n 1 >/dev/null; exit "${PIPESTATUS[0]}"' \
		_ "$FEEDBACKCTL" "$E2E_MILTER_CONF" || rc=$?
	expect_eq "(g) when its reader goes away (EPIPE) it exits 0" 0 "$rc"
}

# stats_field KEY - a field of stats --json --since 1d
stats_field() { ctl stats --json --since 1d | head -n 1 | json_field "$1"; }

# (h) stats agree with what was sent and what bounced
case_h() {
	local n hard soft bounced line
	n=$(nsends)
	hard=$(evq "count(*)" "class='hard'")
	soft=$(evq "count(*)" "class='soft'")
	bounced=$(e2e_sql "SELECT count(DISTINCT send_id) FROM events WHERE class IN ('hard','soft')")
	line=$(ctl stats --json --since 1d)
	expect_eq "(h) one total row" 1 "$(wc -l <<<"$line")"
	expect_eq "(h) sends: as many as this test sent" "$n" "$(json_field sends <<<"$line")"
	expect_eq "(h) ... as the store holds" "$(e2e_sql "SELECT count(*) FROM sends")" "$n"
	expect_eq "(h) hard events: (a), (e) and (g)" "3 $hard" "$(json_field events.hard <<<"$line") $hard"
	expect_eq "(h) soft events: (b)" "1 $soft" "$(json_field events.soft <<<"$line") $soft"
	expect_eq "(h) bounced: distinct sends with a hard or soft event" "4 $bounced" \
		"$(json_field bounced <<<"$line") $bounced"
	expect_eq "(h) bounce rate: bounced/sends" "$(python3 -c "print('%.4f' % (4 / $n))")" \
		"$(python3 -c 'import json,sys; print("%.4f" % json.loads(sys.stdin.read())["bounce_rate"])' <<<"$line")"
	expect_eq "(h) complaint rate 0" "0 0.0" "$(json_field complained <<<"$line") $(json_field complaint_rate <<<"$line")"
	expect_eq "(h) --domain example.nl: the same sends" "$n" \
		"$(ctl stats --json --since 1d --domain example.nl | json_field sends)"
	expect_eq "(h) --domain other.example: no sends, rate null" "0|None" \
		"$(ctl stats --json --since 1d --domain other.example | python3 -c 'import json,sys; v=json.load(sys.stdin); print("%s|%s" % (v["sends"], v["bounce_rate"]))')"
	expect_eq "(h) --by class: a hard row with 3 hard events" 3 \
		"$(ctl stats --json --since 1d --by class | grep '"group":"hard"' | json_field events.hard)"
	expect_match "(h) --by day: today's row" "\"group\":\"$(date -u +%F)\"" "$(ctl stats --json --since 1d --by day)"
	expect_match "(h) piped: CSV with a head line" '^group,sends,unknown,hard,soft,' "$(ctl stats | head -n 1)"
	expect_match "(h) CSV: the total row" "^total,$n,0,3,1,0,0,0,0,4," "$(ctl stats --since 1d | sed -n 2p)"
	expect_match "(h) on a terminal: an aligned table" 'TOTAL +SENDS +UNKNOWN +HARD' \
		"$(script -qec "'$FEEDBACKCTL' -c '$E2E_MILTER_CONF' stats" /dev/null)"
	expect_eq "(h) --by week: exit 64" 64 "$(ctl_rc stats --by week)"
}

# (i) prune: an injected old send and event go, the suppression they made
# stays, an expired suppression goes, the recent records stay
case_i() {
	local old now sends events out
	now=$(date +%s)
	old=$((now - 200 * 86400))
	runuser -u "$E2E_MILTER_USER" -- sqlite3 -batch -cmd ".timeout 5000" "$E2E_DIR/db/feedback.db" "
		INSERT INTO sends (code, feedback_domain, created, sender)
			VALUES ('oldoldoldoldoldold', '$FB', $old, 'alice@example.nl');
		INSERT INTO events (send_id, code, verified, created, class, reason, status, recipient)
			VALUES (last_insert_rowid(), 'oldoldoldoldoldold', 1, $old, 'hard', 'userunknown', '5.1.1', 'old@remote.example');
		INSERT INTO suppressions (address, reason, class, event_id, created, expires, source)
			VALUES ('old@remote.example', 'hard userunknown 5.1.1', 'hard', last_insert_rowid(), $old, NULL, 'rule');
		INSERT INTO suppressions (address, reason, class, event_id, created, expires, source)
			VALUES ('expired@remote.example', 'soft mailboxfull 5.2.2', 'soft', NULL, $old, $((old + 30 * 86400)), 'rule');
	"
	check "(i) the old records are in the store" test -n "$(evq id "code='oldoldoldoldoldold'")"
	sends=$(e2e_sql "SELECT count(*) FROM sends WHERE created >= $now - 86400")
	events=$(e2e_sql "SELECT count(*) FROM events WHERE created >= $now - 86400")
	out=$(ctl prune --older-than 90d --dry-run)
	expect_match "(i) --dry-run says what would go" '^would remove 1 send, 1 event and 1 expired suppression ' "$out"
	check "(i) ... and deletes nothing" test -n "$(evq id "code='oldoldoldoldoldold'")"
	out=$(ctl prune --older-than 90d)
	expect_match "(i) prune prints what it removed" \
		'^removed 1 send, 1 event and 1 expired suppression recorded before [0-9-]+ [0-9:]+ UTC; [0-9]+ active suppressions kept$' "$out"
	expect_eq "(i) the old send is gone" "" "$(e2e_sql "SELECT id FROM sends WHERE code = 'oldoldoldoldoldold'")"
	expect_eq "(i) the old event is gone" "" "$(evq id "code='oldoldoldoldoldold'")"
	expect_match "(i) its suppression stays" '"address":"old@remote.example"' "$(supp_json old@remote.example)"
	expect_eq "(i) the expired suppression is gone" "" "$(supp_json expired@remote.example --all)"
	expect_eq "(i) the recent sends stay" "$sends" "$(e2e_sql "SELECT count(*) FROM sends")"
	expect_eq "(i) the recent events stay" "$events" "$(e2e_sql "SELECT count(*) FROM events")"
	check "(i) (a)'s suppression stays" is_suppressed unknown@remote.example
	expect_match "(i) nothing more to prune: exit 0" '^removed 0 sends, 0 events and 0 expired suppressions ' \
		"$(ctl prune --older-than 90d)"
	expect_eq "(i) --older-than without a unit: exit 64" 64 "$(ctl_rc prune --older-than 90)"
}

# (j) a store that cannot be opened: exit 78 with a message
case_j() {
	local conf=$E2E_DIR/state/missing.conf rc=0
	sed "s|^Database .*|Database $E2E_DIR/db/missing.db|" "$E2E_MILTER_CONF" >"$conf"
	"$FEEDBACKCTL" -c "$conf" stats --json >/dev/null 2>"$E2E_DIR/state/j.err" || rc=$?
	expect_eq "(j) stats on a missing database: exit 78" 78 "$rc"
	expect_match "(j) ... with a message naming the option" 'Database: .*missing\.db' "$(cat "$E2E_DIR/state/j.err")"
	check "(j) ... and the read-only open created nothing" test ! -e "$E2E_DIR/db/missing.db"
	# a write command run as root on a database not made yet creates it
	# as the owner of its directory (the milter's user), not as root
	rc=0
	"$FEEDBACKCTL" -c "$conf" suppression add new-j@remote.example >/dev/null 2>"$E2E_DIR/state/j2.err" || rc=$?
	expect_eq "(j) suppression add on a new database: exit 0" 0 "$rc"
	expect_eq "(j) ... the database belongs to the directory's owner, $E2E_MILTER_USER" \
		"$E2E_MILTER_USER $E2E_MILTER_USER" \
		"$(stat -c %U "$E2E_DIR/db") $(stat -c %U "$E2E_DIR/db/missing.db" 2>/dev/null)"
	rm -f "$E2E_DIR/db/missing.db"*
}

# (k) Retention: -n and a reload warn when it is shorter than CodeLifetime
# and the soft threshold's window; a reload that sets it prunes a minute
# later: an injected old send and event go, the recent records stay
case_k() {
	local conf=$E2E_DIR/state/retention.conf rc=0 out before old now sends events
	{ cat "$E2E_MILTER_CONF"; echo "Retention 2d"; } >"$conf"
	out=$("$FEEDBACK_MILTER" -c "$conf" -n 2>&1) || rc=$?
	expect_eq "(k) -n with Retention 2d: exit 0" 0 "$rc"
	expect_match "(k) ... warns that it is shorter than CodeLifetime" \
		"^feedback-milter: $conf: warning: Retention 2d is shorter than CodeLifetime 30d: " "$out"
	expect_match "(k) ... and than the soft threshold's window" \
		"warning: Retention 2d is shorter than the 7d window of SuppressionRule soft: " "$out"
	expect_match "(k) ... and still reports OK" "^$conf: OK: " "$(tail -n 1 <<<"$out")"
	now=$(date +%s)
	old=$((now - 3 * 86400))
	runuser -u "$E2E_MILTER_USER" -- sqlite3 -batch -cmd ".timeout 5000" "$E2E_DIR/db/feedback.db" "
		INSERT INTO sends (code, feedback_domain, created, sender)
			VALUES ('retainretainretain', '$FB', $old, 'alice@example.nl');
		INSERT INTO events (send_id, code, verified, created, class, recipient)
			VALUES (last_insert_rowid(), 'retainretainretain', 1, $old, 'delayed', 'old-k@remote.example');
	"
	sends=$(e2e_sql "SELECT count(*) FROM sends WHERE created > $old")
	events=$(e2e_sql "SELECT count(*) FROM events WHERE created > $old")
	before=$(wc -l <"$E2E_DIR/milter.log")
	reconfigure "Retention 2d"
	check "(k) the reload warns about CodeLifetime" e2e_log_after "$E2E_DIR/milter.log" "$before" \
		'Retention 2d is shorter than CodeLifetime 30d: a report about a message sent more than 2d ago'
	check "(k) ... and about the soft window" e2e_log_after "$E2E_DIR/milter.log" "$before" \
		'Retention 2d is shorter than the 7d window of SuppressionRule soft'
	check "(k) the milter prunes a minute after the reload" \
		e2e_wait_until 90 "the Retention prune" \
		e2e_log_after "$E2E_DIR/milter.log" "$before" 'prune \(Retention 2d\): 2 rows removed'
	expect_eq "(k) the old send is gone" "" "$(e2e_sql "SELECT id FROM sends WHERE code = 'retainretainretain'")"
	expect_eq "(k) its event is gone" "" "$(evq id "code='retainretainretain'")"
	expect_eq "(k) the recent sends stay" "$sends" "$(e2e_sql "SELECT count(*) FROM sends")"
	expect_eq "(k) the recent events stay" "$events" "$(e2e_sql "SELECT count(*) FROM events")"
	reconfigure
}

# (z) clean shutdown
case_z() {
	local pid
	pid=$(e2e_milter_pid)
	e2e_milter_stop
	check "(z) the milter (pid $pid) exited on SIGTERM" e2e_pid_gone "$pid"
	check "(z) no sanitizer report in the milter log" e2e_milter_log_clean
}

# --------------------------------------------------------------------------

setup_dns() {
	local z zones=()
	mkdir -p "$E2E_DIR/zones"
	cp "$E2E_TOP"/tests/dns/zones/*.zone "$E2E_DIR/zones/"
	for z in "$E2E_DIR"/zones/*.zone; do
		zones+=("$z")
	done
	e2e_dns_start "${zones[@]}"
}

setup_postfix_a() {
	e2e_postfix_setup
	printf '%s\t%s\n' \
		"$FB" "smtp:[127.0.0.1]:$E2E_SINK_PORT" \
		remote.example "smtp:[127.0.0.1]:$E2E_REMOTE_PORT" >"$E2E_PF/transport"
	e2e_postconf "relay_domains = remote.example, $FB" \
		"transport_maps = texthash:$E2E_PF/transport" \
		"internal_mail_filter_classes = bounce"
}

setup_postfix_b() {
	e2e_remote_setup
	e2e_remote_map recipient_access unknown@remote.example "550 5.1.1 User unknown"
	e2e_remote_map recipient_access nobody@remote.example "550 5.1.1 User unknown"
	e2e_remote_map transport full@remote.example "mailstore:5.2.2 Mailbox full"
	e2e_remote_map transport "$FB" "smtp:[127.0.0.1]:$E2E_SMTP_PORT"
}

main() {
	checks_begin on_exit
	: >"$E2E_DIR/state/sends"
	read -r E2E_SMTP_PORT E2E_SINK_PORT E2E_REMOTE_PORT < <(e2e_free_ports 3)
	setup_dns
	e2e_sink_start --dump
	setup_postfix_b
	setup_postfix_a
	BASE_CONFIG=(
		"SenderDomain example.nl"
		"TrustedClients 127.0.0.0/8, ::1/128"
		"DatabaseBusyTimeout 2s"
		"Nameservers 127.0.0.1@$E2E_DNS_PORT"
		"DnsTimeout 2s"
		"AuthservID mx.e2e.test"
		"InboundAction discard"
	)
	e2e_milter_config "${BASE_CONFIG[@]}"
	e2e_milter_start
	e2e_remote_start
	e2e_postfix_start
	echo "# work directory $E2E_DIR; Postfix A on 127.0.0.1:$E2E_SMTP_PORT, B on 127.0.0.1:$E2E_REMOTE_PORT," \
		"sink on 127.0.0.1:$E2E_SINK_PORT, DNS on 127.0.0.1@$E2E_DNS_PORT"

	run_case "(a) a hard bounce suppresses" case_a
	run_case "(b) one soft bounce does not" case_b
	run_case "(c) suppression add and remove" case_c
	run_case "(d) export for Postfix" case_d
	run_case "(e) RejectSuppressed" case_e
	if [[ $(grep -c '^RejectSuppressed' "$E2E_MILTER_CONF" || true) != 0 ]]; then
		reconfigure || true
	fi
	run_case "(f) events" case_f
	run_case "(g) events --follow" case_g
	run_case "(h) stats" case_h
	run_case "(i) prune" case_i
	run_case "(j) a store that cannot be opened" case_j
	run_case "(k) Retention" case_k
	run_case "(z) clean shutdown" case_z

	summary
	(($(count FAIL) == 0))
}

main "$@"
