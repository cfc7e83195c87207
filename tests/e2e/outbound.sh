#!/bin/bash
#
# tests/e2e/outbound.sh - end-to-end tests of the outbound rewrite: a real
# Postfix on loopback with feedback-milter attached (smtpd_milters and
# non_smtpd_milters) relays to smtp-sink, whose dumps show the MAIL FROM that
# left; feedbackctl decodes it from the store.
#
# Run as root from anywhere: tests/e2e/outbound.sh
# Prints one line per check and closes with "N passed, M failed"; exits
# non-zero if any check failed. See tests/e2e/README.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"


# --------------------------------------------------------------------------
# Helpers

# send_ok CASE TOKEN [e2e_smtp_send options and arguments] - send over SMTP,
# check the 250, save and print the queue id
send_ok() {
	local name=$1 token=$2 reply
	shift 2
	reply=$(e2e_smtp_send "$@")
	expect_match "$name: Postfix accepted the message" '^250 [0-9A-Za-z]+$' "$reply"
	echo "${reply#250 }" >"$E2E_DIR/state/$token.qid"
	echo "${reply#250 }"
}

# no_rewrite_logged CASE QUEUEID - the milter logged no rewrite for it
no_rewrite_logged() {
	if grep -q "$2: rewrite " "$E2E_DIR/milter.log"; then
		fail "$1: no rewrite logged for $2" "$(grep "$2: rewrite " "$E2E_DIR/milter.log")"
	else
		pass "$1: no rewrite logged for $2"
	fi
}


# sorted WORD... - one a line, sorted
sorted() { printf '%s\n' "$@" | sort; }

# --------------------------------------------------------------------------
# Cases

# (a) trusted SMTP client, one recipient
case_a() {
	local qid f from code json
	qid=$(send_ok "(a)" case-a case-a alice@example.nl rcpt-a@remote.example)
	f=$(sink_file "(a)" case-a)
	from=$(e2e_sink_mail_from "$f")
	expect_match "(a) MAIL FROM at the sink is CODE@feedback.example.nl" \
		"^$CODE_RE@feedback\.example\.nl$" "$from"
	code=${from%@*}
	echo "$from" >"$E2E_DIR/state/a.address"
	expect_eq "(a) header From unchanged" alice@example.nl "$(e2e_sink_header "$f" From)"
	expect_eq "(a) recipient unchanged" rcpt-a@remote.example "$(e2e_sink_rcpts "$f")"
	json=$(decode_json "(a)" "$from")
	expect_eq "(a) decode: status" valid "$(jget status "$json")"
	expect_eq "(a) decode: code" "$code" "$(jget code "$json")"
	expect_eq "(a) decode: feedback_domain" feedback.example.nl "$(jget feedback_domain "$json")"
	expect_eq "(a) decode: sender" alice@example.nl "$(jget sender "$json")"
	expect_eq "(a) decode: recipients" rcpt-a@remote.example "$(jget recipients "$json")"
	expect_eq "(a) decode: queue_id is Postfix's" "$qid" "$(jget queue_id "$json")"
	expect_eq "(a) decode: msgid" '<case-a@e2e.test>' "$(jget msgid "$json")"
	expect_eq "(a) decode: client" 127.0.0.1 "$(jget client "$json")"
	local created now
	created=$(jget created "$json")
	now=$(date +%s)
	check "(a) decode: created ($created) is within the last minute" \
		test "${created:-0}" -ge $((now - 60)) -a "${created:-0}" -le $((now + 5))
	expect_eq "(a) decode: day is the creation day mod 1024" "$(((${created:-0} / 86400) % 1024))" \
		"$(jget day "$json")"
	# The code alone decodes the same, and the plain output names the send.
	json=$(decode_json "(a) by code" "$code")
	expect_eq "(a) decode by code alone: sender" alice@example.nl "$(jget sender "$json")"
	local text rc=0
	text=$(e2e_ctl decode "$from" 2>&1) || rc=$?
	expect_eq "(a) plain decode exits 0" 0 "$rc"
	expect_match "(a) plain decode shows sender and recipient" \
		'alice@example\.nl.*rcpt-a@remote\.example|rcpt-a@remote\.example.*alice@example\.nl' \
		"$(tr '\n' ' ' <<<"$text")"
	# A code with one character changed fails verification (exit 1).
	local last=${code: -1} bad
	if [[ $last == 0 ]]; then bad=${code%?}1; else bad=${code%?}0; fi
	rc=0
	e2e_ctl decode --json "$bad" >"$E2E_DIR/state/tampered.out" 2>/dev/null || rc=$?
	expect_eq "(a) a tampered code is invalid (exit 1)" 1 "$rc"
	expect_eq "(a) ... and its JSON says invalid" invalid "$(e2e_json_get status <"$E2E_DIR/state/tampered.out")"
	rc=0
	e2e_ctl decode --json "${code:0:17}" >"$E2E_DIR/state/short.out" 2>&1 || rc=$?
	expect_eq "(a) a short code is invalid (exit 1)" 1 "$rc"
}

# (b) several recipients in one transaction: one code, all recipients recorded
case_b() {
	local f from json rcpts
	send_ok "(b)" case-b case-b alice@example.nl r1@remote.example r2@remote.example r3@remote.example >/dev/null
	f=$(sink_file "(b)" case-b)
	expect_eq "(b) one transaction at the sink" 1 "$(grep -rlx 'END case-b' "$E2E_DIR/sink" | wc -l)"
	expect_eq "(b) all three recipients in it" "$(sorted r1@remote.example r2@remote.example r3@remote.example)" \
		"$(e2e_sink_rcpts "$f" | sort)"
	from=$(e2e_sink_mail_from "$f")
	expect_match "(b) one coded MAIL FROM" "^$CODE_RE@feedback\.example\.nl$" "$from"
	expect_no_match "(b) a different code than (a)" "^$(cat "$E2E_DIR/state/a.address" 2>/dev/null || echo none)$" "$from"
	json=$(decode_json "(b)" "$from")
	expect_eq "(b) decode: sender" alice@example.nl "$(jget sender "$json")"
	rcpts=$(jget recipients "$json" | sort)
	expect_eq "(b) decode: all recipients" "$(sorted r1@remote.example r2@remote.example r3@remote.example)" "$rcpts"
}

# (c) local submission through sendmail(1): non_smtpd_milters
case_c() {
	local f from json qid rc=0
	e2e_message case-c bob@example.nl rcpt-c@remote.example |
		e2e_sendmail bob@example.nl rcpt-c@remote.example || rc=$?
	expect_eq "(c) sendmail -C exits 0" 0 "$rc"
	f=$(sink_file "(c)" case-c)
	from=$(e2e_sink_mail_from "$f")
	expect_match "(c) MAIL FROM is CODE@feedback.example.nl" "^$CODE_RE@feedback\.example\.nl$" "$from"
	qid=$(e2e_postfix_wait_queue_id case-c@e2e.test)
	echo "$qid" >"$E2E_DIR/state/case-c.qid"
	json=$(decode_json "(c)" "$from")
	expect_eq "(c) decode: sender (no angle brackets on this path)" bob@example.nl "$(jget sender "$json")"
	expect_eq "(c) decode: recipients" rcpt-c@remote.example "$(jget recipients "$json")"
	expect_eq "(c) decode: queue_id is Postfix's" "$qid" "$(jget queue_id "$json")"
}

# unchanged CASE TOKEN SENDER [send options] - the sink got SENDER unchanged
unchanged() {
	local name=$1 token=$2 sender=$3 f qid
	shift 3
	qid=$(send_ok "$name" "$token" "$@" "$token" "$sender" "rcpt-$token@remote.example")
	f=$(sink_file "$name" "$token")
	expect_eq "$name MAIL FROM unchanged" "$sender" "$(e2e_sink_mail_from "$f")"
	no_rewrite_logged "$name" "$qid"
}

# (d) null sender
case_d() { unchanged "(d) null sender" case-d ""; }

# (e) a domain that is not a SenderDomain
case_e() { unchanged "(e) other domain" case-e carol@other.example; }

# (f) senders already at a feedback domain
case_f() {
	unchanged "(f) at feedback.example.nl" case-f1 "$(cat "$E2E_DIR/state/a.address" 2>/dev/null ||
		echo 0123456789abcdefgh@feedback.example.nl)"
	unchanged "(f) at an explicit feedback domain" case-f2 someone@bounces.shop.example
}

# (g) untrusted client (XCLIENT makes the loopback client 192.0.2.10); a
# MAIL FROM without angle brackets (as the sendmail command's) does not make
# it a local submission
case_g() {
	unchanged "(g) untrusted client 192.0.2.10" case-g alice@example.nl --xclient 192.0.2.10
	local f
	f=$(e2e_sink_file case-g)
	expect_match "(g) Postfix saw the XCLIENT address" '192\.0\.2\.10' "$(grep -m1 -A1 '^Received: from client' "$f" | tr '\n' ' ')"
	unchanged "(g) untrusted client, MAIL FROM:alice@example.nl without brackets" case-g2 \
		alice@example.nl --xclient 192.0.2.11 --bare
}

# (h) identity headers recorded, and stripped (StripIdentityHeaders yes)
case_h() {
	local f from json
	send_ok "(h)" case-h --header "X-Campaign-ID: spring-sale-42" --header "X-Other-ID: keep-me" \
		case-h alice@example.nl rcpt-h@remote.example >/dev/null
	f=$(sink_file "(h)" case-h)
	from=$(e2e_sink_mail_from "$f")
	expect_match "(h) MAIL FROM is coded" "^$CODE_RE@feedback\.example\.nl$" "$from"
	json=$(decode_json "(h)" "$from")
	expect_eq "(h) decode: identity X-Campaign-ID" spring-sale-42 \
		"$(jget identity "$json" | sed -n 's/^[Xx]-[Cc]ampaign-[Ii][Dd]=//p')"
	expect_eq "(h) X-Campaign-ID stripped from the sent message" "" "$(e2e_sink_header "$f" X-Campaign-ID)"
	expect_eq "(h) other headers kept" keep-me "$(e2e_sink_header "$f" X-Other-ID)"
	local text
	text=$(e2e_ctl decode "$from" 2>&1) || true
	expect_match "(h) plain decode shows the identity header" 'spring-sale-42' "$text"
}

# (i) the rewrite log line, with Postfix's queue id as prefix
case_i() {
	local qid addr code line
	qid=$(cat "$E2E_DIR/state/case-a.qid")
	addr=$(cat "$E2E_DIR/state/a.address")
	code=${addr%@*}
	line=$(grep -F "$qid: rewrite code=$code " "$E2E_DIR/milter.log" | head -n 1) || true
	expect_match "(i) rewrite line for (a)" \
		"$qid: rewrite code=$code sender=<alice@example\.nl> feedback=<$code@feedback\.example\.nl> nrcpt=1 msgid=<case-a@e2e\.test> client=[^ ]*127\.0\.0\.1" \
		"$line"
	qid=$(cat "$E2E_DIR/state/case-b.qid")
	expect_match "(i) rewrite line for (b) has nrcpt=3" "$qid: rewrite code=$CODE_RE .*nrcpt=3" \
		"$(grep -F "$qid: rewrite " "$E2E_DIR/milter.log" || true)"
	qid=$(cat "$E2E_DIR/state/case-c.qid")
	expect_match "(i) rewrite line for (c), local submission, has its queue id" \
		"$qid: rewrite code=$CODE_RE sender=<bob@example\.nl> feedback=<$CODE_RE@feedback\.example\.nl> nrcpt=1" \
		"$(grep -F "$qid: rewrite " "$E2E_DIR/milter.log" || true)"
	expect_match "(i) ... and says submission=local" ' submission=local$' \
		"$(grep -F "$qid: rewrite " "$E2E_DIR/milter.log" || true)"
	qid=$(cat "$E2E_DIR/state/case-a.qid")
	expect_no_match "(i) (a), over SMTP, is no local submission" 'submission=' \
		"$(grep -F "$qid: rewrite " "$E2E_DIR/milter.log" || true)"
	qid=$(cat "$E2E_DIR/state/case-a.qid")
	expect_match "(i) Postfix queued (a) with the coded sender" \
		"$qid: from=<$code@feedback\.example\.nl>" "$(grep -F "$qid: from=" "$E2E_DIR/postfix.log" || true)"
}

# (k) a second SenderDomain with an explicit feedback domain
case_k() {
	local f from json
	send_ok "(k)" case-k case-k dave@shop.example rcpt-k@remote.example >/dev/null
	f=$(sink_file "(k)" case-k)
	from=$(e2e_sink_mail_from "$f")
	expect_match "(k) MAIL FROM is CODE@bounces.shop.example" "^$CODE_RE@bounces\.shop\.example$" "$from"
	json=$(decode_json "(k)" "$from")
	expect_eq "(k) decode: feedback_domain" bounces.shop.example "$(jget feedback_domain "$json")"
	expect_eq "(k) decode: sender" dave@shop.example "$(jget sender "$json")"
	# The same code under the other feedback domain does not verify: the MAC
	# covers the feedback domain.
	local rc=0
	e2e_ctl decode --json "${from%@*}@feedback.example.nl" >"$E2E_DIR/state/wrongdomain.out" 2>&1 || rc=$?
	expect_eq "(k) the code under another feedback domain is invalid (exit 1)" 1 "$rc"
}

# (l) key rotation: a new key signs after SIGHUP, codes of the old key still
# verify
case_l() {
	local before f from json old_key new_key
	before=$(wc -l <"$E2E_DIR/milter.log")
	e2e_ctl key new >>"$E2E_DIR/feedbackctl.log" 2>&1
	kill -HUP "$(e2e_milter_pid)"
	check "(l) the milter reloaded two keys on SIGHUP" \
		e2e_wait_until "$E2E_TIMEOUT" "the milter to reload" \
		e2e_log_after "$E2E_DIR/milter.log" "$before" 'reloaded .* 2 keys'
	send_ok "(l)" case-l case-l alice@example.nl rcpt-l@remote.example >/dev/null
	f=$(sink_file "(l)" case-l)
	from=$(e2e_sink_mail_from "$f")
	expect_match "(l) MAIL FROM is coded" "^$CODE_RE@feedback\.example\.nl$" "$from"
	new_key=$(jget key_id "$(decode_json "(l) new code" "$from")")
	json=$(decode_json "(l) (a)'s code" "$(cat "$E2E_DIR/state/a.address")")
	old_key=$(jget key_id "$json")
	expect_eq "(l) (a)'s code still verifies" valid "$(jget status "$json")"
	expect_match "(l) the new code uses another key (old $old_key, new $new_key)" '^[0-9]+$' "$new_key"
	expect_no_match "(l) ... and it is not the old one" "^$old_key$" "$new_key"
}

# (m) the store cannot commit (locked by another process past the busy
# timeout): the message is tempfailed with a log line, nothing leaves; once
# the lock is gone the same message goes out coded and recorded
case_m() {
	local before reply flag="$E2E_DIR/state/locked" holder f from json
	before=$(wc -l <"$E2E_DIR/milter.log")
	python3 - "$E2E_DIR/db/feedback.db" "$flag" 6 <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").write("locked\n")
time.sleep(float(sys.argv[3]))
db.execute("COMMIT")
PY
	holder=$!
	check "(m) another process holds the database lock" \
		e2e_wait_until "$E2E_TIMEOUT" "the lock holder" test -s "$flag"
	reply=$(e2e_smtp_send case-m1 alice@example.nl rcpt-m@remote.example)
	expect_match "(m) the message is tempfailed at end of DATA (451 4.3.0)" '^451 DATA 4\.3\.0 ' "$reply"
	check "(m) the milter logged the store failure" \
		e2e_log_after "$E2E_DIR/milter.log" "$before" 'tempfail reason=store sender=<alice@example\.nl> error=".*locked'
	wait "$holder" || true
	check "(m) nothing of it reached the sink" test -z "$(e2e_sink_file case-m1)"
	send_ok "(m) after the lock" case-m2 case-m2 alice@example.nl rcpt-m@remote.example >/dev/null
	f=$(sink_file "(m) after the lock" case-m2)
	from=$(e2e_sink_mail_from "$f")
	expect_match "(m) after the lock it leaves coded" "^$CODE_RE@feedback\.example\.nl$" "$from"
	json=$(decode_json "(m)" "$from")
	expect_eq "(m) and its send record is there" rcpt-m@remote.example "$(jget recipients "$json")"
}

# (o) an MTA that reuses its milter connection for a new SMTP session
# (SMFIC_QUIT_NC, which Sendmail may send and Postfix never does): every
# session of the connection is rewritten, with the connect step and
# without it (the client's address then comes with MAIL); and every
# session keeps the header format negotiated for the connection: with
# InboundAction accept, the Authentication-Results value the milter adds
# to a report starts with the one space that SMFIP_HDR_LEADSPC asks for
case_o() {
	local out variant rc before code
	e2e_milter_config_write "${BASE_CONFIG[@]}" "InboundAction accept"
	check "(o) the milter reloaded with InboundAction accept" e2e_milter_reload
	for variant in connect --no-connect-step; do
		before=$(wc -l <"$E2E_DIR/milter.log")
		rc=0
		out=$(timeout 60 python3 "$E2E_TOP/tests/tools/milter-client.py" \
			${variant#connect} --tag "o$variant" "unix:$E2E_MILTER_SOCK" \
			--session alice@example.nl,o1@remote.example \
			--session alice@example.nl,o2@remote.example \
			--session bob@example.nl,o3@remote.example 2>&1) || rc=$?
		expect_eq "(o) $variant: the client got every reply it waited for" 0 "$rc"
		expect_eq "(o) $variant: all three sessions' senders were changed to a code" 3 \
			"$(grep -cE '^[123] eom e <[0-9a-z]{18}@feedback\.example\.nl>' <<<"$out" || true)"
		expect_eq "(o) $variant: the milter logged three rewrites" 3 \
			"$(tail -n +"$((before + 1))" "$E2E_DIR/milter.log" | grep -cE 'QNC000[123]A: rewrite code=' || true)"
		expect_eq "(o) $variant: every session's identity header is recorded" \
			"o$variant-1 o$variant-2 o$variant-3" \
			"$(e2e_sql "SELECT group_concat(value, ' ') FROM (SELECT value FROM send_idents
				WHERE value LIKE '%o$variant-%' ORDER BY value)")"
		code=$(sed -n 's/^1 eom e <\([0-9a-z]*\)@.*/\1/p' <<<"$out")
		rc=0
		out=$(timeout 60 python3 "$E2E_TOP/tests/tools/milter-client.py" \
			${variant#connect} --tag "o-in$variant" "unix:$E2E_MILTER_SOCK" \
			--session ",$code@feedback.example.nl" \
			--session ",$code@feedback.example.nl" 2>&1) || rc=$?
		printf "%s\n" "$out" >"$E2E_DIR/state/o-in$variant.out"
		expect_eq "(o) $variant: two reports on one connection: every reply came" 0 "$rc"
		expect_eq "(o) $variant: ... both got Authentication-Results with one leading space" 2 \
			"$(grep -cE '^[12] eom i Authentication-Results\| [^ ]' <<<"$out" || true)"
	done
	e2e_milter_config_write "${BASE_CONFIG[@]}"
	check "(o) the milter reloaded the first configuration" e2e_milter_reload
}

# (p) an inet: socket: a second milter on 127.0.0.1 (its own database)
# rewrites the senders of two sessions over TCP as over the unix socket. On
# TCP connections libmilter's accept() and writev() are the daemon's own
# (milter/sockopt.c: TCP_NODELAY, and TCP_QUICKACK after each reply;
# tests/unit/test_sockopt.c checks what they do); the dynamic linker binds
# libmilter's calls to them only if the executable exports them and the
# shared libmilter makes those calls
case_p() {
	local bin=${FM_VALGRIND_TARGET:-$FEEDBACK_MILTER} lib port conf pid rc out
	expect_eq "(p) feedback-milter exports accept, accept4 and writev" "accept accept4 writev" \
		"$(nm -D "$bin" | awk '$2 == "T" && $3 ~ /^(accept|accept4|writev)$/ { print $3 }' |
			sort | tr '\n' ' ' | sed 's/ $//')"
	lib=$(ldd "$bin" | awk '$1 ~ /^libmilter\.so/ { print $3 }')
	expect_eq "(p) the libmilter it loads ($lib) calls accept and writev" "accept writev" \
		"$(nm -D "$lib" | awk '$1 == "U" { sub(/@.*/, "", $2); if ($2 ~ /^(accept|writev)$/) print $2 }' |
			sort | tr '\n' ' ' | sed 's/ $//')"
	port=$(e2e_free_ports 1)
	conf=$E2E_DIR/inet.conf
	sed -e "s|^Socket .*|Socket inet:$port@127.0.0.1|" \
		-e "s|^PidFile .*|PidFile $E2E_DIR/run/inet.pid|" \
		-e "s|^Database .*|Database $E2E_DIR/db/inet.db|" "$E2E_MILTER_CONF" >"$conf"
	"$FEEDBACK_MILTER" -c "$conf" -f >>"$E2E_DIR/inet.log" 2>&1 &
	pid=$!
	inet_ready() {
		e2e_pid_alive "$pid" || return 0
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
			"$port" 2>/dev/null
	}
	e2e_wait_until "$E2E_TIMEOUT" "the milter on inet:$port" inet_ready || true
	check "(p) the second milter listens on inet:$port@127.0.0.1" e2e_pid_alive "$pid"
	rc=0
	out=$(timeout 60 python3 "$E2E_TOP/tests/tools/milter-client.py" --tag p \
		"inet:$port@127.0.0.1" \
		--session alice@example.nl,p1@remote.example \
		--session alice@example.nl,p2@remote.example 2>&1) || rc=$?
	expect_eq "(p) over TCP the client got every reply it waited for" 0 "$rc"
	expect_eq "(p) both sessions' senders were changed to a code" 2 \
		"$(grep -cE '^[12] eom e <[0-9a-z]{18}@feedback\.example\.nl>' <<<"$out" || true)"
	expect_eq "(p) the second milter logged two rewrites" 2 \
		"$(grep -cE 'QNC000[12]A: rewrite code=' "$E2E_DIR/inet.log" || true)"
	e2e_stop_pid "$pid" "the milter on inet:$port" 30
}

# (n) TrustedClients without loopback: the sendmail command's mail is still
# rewritten (a local submission), mail from 127.0.0.1 over SMTP is not, with
# or without brackets around MAIL FROM
case_n() {
	local lines=() line f from
	for line in "${BASE_CONFIG[@]}"; do
		[[ $line == TrustedClients* ]] || lines+=("$line")
	done
	e2e_milter_config_write "${lines[@]}" "TrustedClients 192.0.2.99/32"
	check "(n) the milter reloaded with TrustedClients 192.0.2.99/32" e2e_milter_reload
	e2e_message case-n1 bob@example.nl rcpt-n1@remote.example |
		e2e_sendmail bob@example.nl rcpt-n1@remote.example
	f=$(sink_file "(n) sendmail" case-n1)
	from=$(e2e_sink_mail_from "$f")
	expect_match "(n) the sendmail command's message is coded" "^$CODE_RE@feedback\.example\.nl$" "$from"
	unchanged "(n) SMTP from 127.0.0.1, no longer trusted" case-n2 alice@example.nl
	unchanged "(n) SMTP from 127.0.0.1, MAIL FROM without brackets" case-n3 alice@example.nl --bare
	e2e_milter_config_write "${BASE_CONFIG[@]}"
	check "(n) the milter reloaded the first configuration" e2e_milter_reload
}

# (j) milter stopped: Postfix defers, nothing leaves unrewritten; when the
# milter is back the deferred local submission goes out rewritten, and the
# earlier send records are still there.
case_j() {
	local reply f from json before pid
	pid=$(e2e_milter_pid)
	e2e_milter_stop
	check "(j) the milter (pid $pid) has exited" e2e_pid_gone "$pid"
	reply=$(e2e_smtp_send case-j1 alice@example.nl rcpt-j1@remote.example)
	expect_match "(j) SMTP mail is deferred with a 4xx" '^4[0-9][0-9] ' "$reply"
	before=$(wc -l <"$E2E_DIR/postfix.log")
	e2e_message case-j2 erin@example.nl rcpt-j2@remote.example |
		e2e_sendmail erin@example.nl rcpt-j2@remote.example
	check "(j) local submission tempfailed by the cleanup milter" \
		e2e_wait_until "$E2E_TIMEOUT" "cleanup to tempfail the local submission" \
		e2e_log_after "$E2E_DIR/postfix.log" "$before" "milter-reject: .* 4\.7\.1 .*from=<erin@example\.nl>"
	check "(j) it waits in the maildrop queue" \
		test -n "$(find "$E2E_DIR/queue/maildrop" -type f -print -quit)"
	check "(j) nothing of it reached the sink" \
		test -z "$(e2e_sink_file case-j1)$(e2e_sink_file case-j2)"
	e2e_milter_start
	postkick -c "$E2E_PF" public pickup W
	f=$(sink_file "(j) after restart" case-j2)
	from=$(e2e_sink_mail_from "$f")
	expect_match "(j) after restart it leaves rewritten" "^$CODE_RE@feedback\.example\.nl$" "$from"
	json=$(decode_json "(j)" "$from")
	expect_eq "(j) decode: sender" erin@example.nl "$(jget sender "$json")"
	json=$(decode_json "(j) (a) after restart" "$(cat "$E2E_DIR/state/a.address")")
	expect_eq "(j) (a)'s send record survived the restart" alice@example.nl "$(jget sender "$json")"
	check "(j) the queue drained" e2e_wait_until "$E2E_TIMEOUT" "an empty queue" e2e_queue_empty
}

# (z) the milter stops on SIGTERM, says so, and nothing reported errors
# (this is where AddressSanitizer's leak report would show)
case_z() {
	local pid
	pid=$(e2e_milter_pid)
	e2e_milter_stop
	check "(z) the milter (pid $pid) exited on SIGTERM" e2e_pid_gone "$pid"
	expect_eq "(z) its last log line says it stopped" "feedback-milter: stopped" \
		"$(tail -n 1 "$E2E_DIR/milter.log")"
	if e2e_milter_log_clean; then
		pass "(z) no sanitizer report in the milter log"
	else
		fail "(z) no sanitizer report in the milter log" \
			"$(grep -E -m 5 'Sanitizer|runtime error:' "$E2E_DIR/milter.log")"
	fi
	expect_eq "(z) every send left the queue" "" \
		"$(find "$E2E_DIR"/queue/{maildrop,incoming,active,deferred,hold} -type f)"
}

# --------------------------------------------------------------------------

main() {
	checks_begin checks_on_exit
	read -r E2E_SMTP_PORT E2E_SINK_PORT < <(e2e_free_ports 2)
	e2e_sink_start --dump
	e2e_postfix_setup
	BASE_CONFIG=(
		"SenderDomain example.nl"
		"SenderDomain shop.example bounces.shop.example"
		"TrustedClients 127.0.0.0/8, ::1/128"
		"IdentityHeaders X-Campaign-ID"
		"StripIdentityHeaders yes"
		"DatabaseBusyTimeout 1s"
	)
	e2e_milter_config "${BASE_CONFIG[@]}"
	e2e_milter_start
	e2e_postfix_start
	echo "# work directory $E2E_DIR; Postfix on 127.0.0.1:$E2E_SMTP_PORT, sink on 127.0.0.1:$E2E_SINK_PORT"

	run_case "(a) trusted SMTP, one recipient" case_a
	run_case "(b) several recipients" case_b
	run_case "(c) local submission" case_c
	run_case "(d) null sender" case_d
	run_case "(e) other domain" case_e
	run_case "(f) already a feedback address" case_f
	run_case "(g) untrusted client" case_g
	run_case "(h) identity headers" case_h
	run_case "(i) rewrite log line" case_i
	run_case "(k) second sender domain" case_k
	run_case "(l) key rotation" case_l
	run_case "(m) store locked" case_m
	run_case "(n) local submission without a trusted loopback" case_n
	run_case "(o) milter connection reused (QUIT_NC)" case_o
	run_case "(p) inet: socket" case_p
	run_case "(j) milter stopped" case_j
	run_case "(z) clean shutdown" case_z

	summary
	(($(count FAIL) == 0))
}

main "$@"
