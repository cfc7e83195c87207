#!/bin/bash
#
# tests/e2e/inbound.sh - end-to-end tests of the inbound side: bounces,
# auto-replies and complaints that come back to the coded addresses.
#
#   client ──▶ Postfix A (ours, 127.0.0.1, feedback-milter) ──▶ Postfix B
#                 ▲   │ feedback.example.nl accepted;          (mx.remote.example:
#                 │   │ delivered on (InboundAction accept)     rejects, bounces,
#                 │   ▼ to smtp-sink                            defers)
#                 └─────── DSNs from B, over SMTP ◀─────────────────┘
#   swaks ──XCLIENT 192.0.2.x──▶ A   crafted, DKIM-signed reports
#   NSD on loopback: the test zones (SPF of remote.example, a DKIM key made
#   at run time); the milter resolves through it (Nameservers).
#
# Bounces come from real MTAs: A itself bounces a recipient that B refuses
# at RCPT (a locally generated DSN, which passes only non_smtpd_milters and
# only with internal_mail_filter_classes = bounce), and B bounces (mailbox
# full) or delays (delay_warning_time) a recipient it accepted and sends the
# DSN back over SMTP (smtpd_milters). Crafted reports (DSN, auto-reply, ARF)
# signed with tests/tools/dkimsign are sent with swaks through XCLIENT so
# that SPF sees a non-loopback client.
#
# Run as root from anywhere: tests/e2e/inbound.sh
# Prints one line per check and closes with "N passed, M failed"; exits
# non-zero if any check failed. See tests/e2e/README.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

FB=feedback.example.nl
SELECTOR=e2e
DKIM_KEY=""

# The milter's configuration; cases that change it append lines and reload.
BASE_CONFIG=()

# --------------------------------------------------------------------------
# Helpers: outbound sends, the store, the logs

# send_out CASE TOKEN RCPT - alice@example.nl sends to RCPT through A; check
# the 250 and the rewrite; print the code
send_out() {
	local name=$1 token=$2 reply qid code
	reply=$(e2e_smtp_send "$token" alice@example.nl "$3")
	expect_match "$name: Postfix accepted the outbound message" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	code=$(sed -n "s/^.* $qid: rewrite code=\([0-9a-z]*\) .*/\1/p" "$E2E_DIR/milter.log" | head -n 1)
	expect_match "$name: the milter gave it a code" "^$CODE_RE$" "$code"
	echo "$qid" >"$E2E_DIR/state/$token.qid"
	echo "$code"
}

# evq COLUMNS WHERE - event rows (columns joined by '|'), oldest first
evq() { e2e_sql "SELECT $1 FROM events WHERE $2 ORDER BY id"; }

has_event() { [[ -n $(evq id "$1") ]]; }

# wait_event CASE WHERE - wait until the store holds an event matching WHERE
wait_event() {
	check "$1: an event is recorded ($2)" \
		e2e_wait_until "$E2E_TIMEOUT" "an event with $2" has_event "$2"
}

# sigs WHERE - the DKIM verdicts of the matching events: domain:selector:result
sigs() {
	e2e_sql "SELECT s.domain || ':' || s.selector || ':' || s.result FROM event_sigs s
		JOIN events e ON e.id = s.event_id WHERE $1 ORDER BY e.id, s.idx"
}

# log_lines ERE - the milter's log lines matching ERE
log_lines() { grep -E -- "$1" "$E2E_DIR/milter.log" || true; }

# pf_bounce_qid QID - the queue id of the bounce A generated for QID
pf_bounce_qid() {
	sed -n "s/^.* $1: sender \(non-delivery\|delay status\) notification: \([0-9A-Za-z]*\).*/\2/p" \
		"$E2E_DIR/postfix.log" | head -n 1
}

has_bounce_qid() { [[ -n $(pf_bounce_qid "$1") ]]; }

# remote_sent_qid CODE - A's queue id for the message B delivered to
# CODE@FB (from B's log: "status=sent (250 2.0.0 Ok: queued as QID)")
remote_sent_qid() {
	sed -n "s/^.* to=<$1@$FB>, relay=127\.0\.0\.1.* status=sent (250 .*queued as \([0-9A-Za-z]*\)).*/\1/p" \
		"$E2E_DIR/remote.log" | tail -n 1
}

# pf_milter_discard QID - A logged milter-discard for QID
pf_milter_discard() { grep -q " $1: milter-discard" "$E2E_DIR/postfix.log"; }

# ar_header_ok FILE - in the delivered message, the Authentication-Results
# field above A's own Received line reads "Authentication-Results:
# mx.e2e.test;" (name, colon, space, authserv-id)
ar_header_ok() {
	awk '/^Received: from mx\.remote\.example/ { exit } /^Authentication-Results/ { print; exit }' "$1" |
		grep -q '^Authentication-Results: mx\.e2e\.test;'
}

# --------------------------------------------------------------------------
# Crafted messages. Written with LF, converted to CRLF; the text part ends
# with "END TOKEN" so that e2e_sink_file finds a delivered copy.

crlf() { sed 's/$/\r/'; }

# make_dsn TOKEN CODE RCPT STATUS DIAGNOSTIC [ACTION] - an RFC 3464 DSN from
# mx.remote.example to CODE@FB about RCPT
make_dsn() {
	local token=$1 code=$2 rcpt=$3 status=$4 diag=$5 action=${6:-failed}
	crlf <<-EOF
		From: Mail Delivery System <MAILER-DAEMON@mx.remote.example>
		To: <$code@$FB>
		Subject: Undelivered Mail Returned to Sender
		Date: $(date -R)
		Message-ID: <$token@mx.remote.example>
		Auto-Submitted: auto-replied
		MIME-Version: 1.0
		Content-Type: multipart/report; report-type=delivery-status;
		 boundary="$token.boundary"

		This is a MIME-encapsulated message.

		--$token.boundary
		Content-Type: text/plain; charset=us-ascii

		This is the mail system at host mx.remote.example.

		I'm sorry to have to inform you that your message could not
		be delivered to one or more recipients.

		<$rcpt>: $diag
		END $token

		--$token.boundary
		Content-Type: message/delivery-status

		Reporting-MTA: dns; mx.remote.example
		Arrival-Date: $(date -R)

		Final-Recipient: rfc822; $rcpt
		Original-Recipient: rfc822;$rcpt
		Action: $action
		Status: $status
		Remote-MTA: dns; store.remote.example
		Diagnostic-Code: smtp; $diag

		--$token.boundary
		Content-Type: text/rfc822-headers

		Return-Path: <$code@$FB>
		From: alice@example.nl
		To: $rcpt
		Subject: News
		Message-ID: <orig-$token@e2e.test>

		--$token.boundary--
	EOF
}

# make_autoreply TOKEN CODE - an RFC 3834 out-of-office reply
make_autoreply() {
	local token=$1 code=$2
	crlf <<-EOF
		From: Bob Remote <bob@remote.example>
		To: <$code@$FB>
		Subject: Out of office: News
		Date: $(date -R)
		Message-ID: <$token@remote.example>
		In-Reply-To: <orig-$token@e2e.test>
		Auto-Submitted: auto-replied
		MIME-Version: 1.0
		Content-Type: text/plain; charset=us-ascii

		I am out of the office until Monday and will read your message
		when I am back.

		Bob
		END $token
	EOF
}

# make_arf TOKEN CODE - an RFC 5965 abuse report about a message we sent
make_arf() {
	local token=$1 code=$2
	crlf <<-EOF
		From: Remote FBL <fbl@remote.example>
		To: <$code@$FB>
		Subject: FW: abuse report
		Date: $(date -R)
		Message-ID: <$token@remote.example>
		MIME-Version: 1.0
		Content-Type: multipart/report; report-type=feedback-report;
		 boundary="$token.boundary"

		--$token.boundary
		Content-Type: text/plain; charset=us-ascii

		This is an email abuse report for an email message received from
		IP 192.0.2.25 on $(date -R).
		END $token

		--$token.boundary
		Content-Type: message/feedback-report

		Feedback-Type: abuse
		User-Agent: RemoteFBL/1.0
		Version: 1
		Original-Mail-From: <$code@$FB>
		Original-Rcpt-To: <carol@remote.example>
		Arrival-Date: $(date -R)
		Source-IP: 192.0.2.25
		Reported-Domain: example.nl

		--$token.boundary
		Content-Type: message/rfc822

		Return-Path: <$code@$FB>
		From: alice@example.nl
		To: carol@remote.example
		Subject: News
		Message-ID: <orig-$token@e2e.test>

		Our news.

		--$token.boundary--
	EOF
}

# sign IN OUT - DKIM-sign for remote.example with the test key
sign() { e2e_dkim_sign remote.example "$SELECTOR" "$DKIM_KEY" "$1" "$2"; }

# smtp_in FILE RCPT [ADDR [MAILFROM]] - e2e_swaks_in as mx.remote.example
smtp_in() { e2e_swaks_in "$1" "$2" "${3:-192.0.2.10}" "${4:-<>}" mx.remote.example; }

# send_in CASE FILE RCPT [ADDR [MAILFROM]] - smtp_in, expect 250, print the qid
send_in() {
	local name=$1 reply
	shift
	reply=$(smtp_in "$@")
	expect_match "$name: Postfix accepted it (250)" '^250 [0-9A-Za-z]+$' "$reply"
	echo "${reply#250 }"
}

# make_code KEYID SECRET-HEX DAY-OFFSET - a code as the milter makes them
# (see milter/codec.c), dated DAY-OFFSET days from today, with a random
# record id
make_code() {
	python3 - "$1" "$2" "$3" "$FB" <<-'PY'
		import hashlib, hmac, secrets, sys, time
		kid, secret, off, domain = int(sys.argv[1]), bytes.fromhex(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
		day = (int(time.time()) // 86400 + off) % 1024
		rid = secrets.randbelow(1 << 35)
		msg = domain.lower().encode() + b"\0" + bytes([kid]) + day.to_bytes(2, "big") + rid.to_bytes(5, "big")
		mac = hmac.new(secret, msg, hashlib.sha256).digest()[:5]
		v = kid << 85 | day << 75 | rid << 40 | int.from_bytes(mac, "big")
		a = "0123456789abcdefghjkmnpqrstvwxyz"
		print("".join(a[v >> (5 * (17 - i)) & 31] for i in range(18)))
	PY
}

# signing_key - "ID SECRET" of the milter's signing key (the last line)
signing_key() {
	awk '!/^[ \t]*(#|$)/ { k = $1 " " $2 } END { print k }' "$E2E_DIR/run/feedback-milter.keys"
}

# decode_field FIELD CODE - a field of feedbackctl decode --json CODE
decode_field() { e2e_ctl decode --json "$2" 2>/dev/null | e2e_json_get "$1" || true; }

# tamper CODE - the code with its last character changed
tamper() {
	local c=$1
	if [[ ${c: -1} == 0 ]]; then echo "${c%?}1"; else echo "${c%?}0"; fi
}

# reconfigure [EXTRA-LINE...] - the base configuration plus lines; SIGHUP
reconfigure() {
	e2e_milter_config_write "${BASE_CONFIG[@]}" "$@"
	if (($#)); then touch "$E2E_DIR/state/reconfigured"; else rm -f "$E2E_DIR/state/reconfigured"; fi
	check "the milter reloaded its configuration${1:+ ($*)}" e2e_milter_reload
}

# run_case_cfg NAME FUNCTION - run_case, then go back to the base
# configuration if the case ended before it did so itself
run_case_cfg() {
	run_case "$@"
	if [[ -e $E2E_DIR/state/reconfigured ]]; then
		echo "# back to the base configuration"
		reconfigure || true
	fi
}

# --------------------------------------------------------------------------
# Cases

# (a) A bounces a recipient that B refuses at RCPT: a locally generated DSN,
# through non_smtpd_milters (internal_mail_filter_classes = bounce)
case_a() {
	local code qid bqid line
	code=$(send_out "(a)" case-a unknown@remote.example)
	echo "$code" >"$E2E_DIR/state/a.code"
	qid=$(cat "$E2E_DIR/state/case-a.qid")
	check "(a) B refused the recipient at RCPT (A logged the 550)" \
		e2e_wait_until "$E2E_TIMEOUT" "A to log the bounce" \
		grep -q " $qid: to=<unknown@remote.example>.*status=bounced (host 127.0.0.1.* said: 550 5.1.1" \
		"$E2E_DIR/postfix.log"
	# the notification is logged once cleanup (and the milter) took it
	e2e_wait_until "$E2E_TIMEOUT" "A's bounce for $qid" has_bounce_qid "$qid" || true
	bqid=$(pf_bounce_qid "$qid")
	expect_match "(a) A generated a bounce for it" '^[0-9A-Za-z]+$' "$bqid"
	wait_event "(a)" "code='$code'"
	expect_eq "(a) event: class, reason, status, action" "hard|userunknown|5.1.1|failed" \
		"$(evq "class, reason, status, action" "code='$code'")"
	expect_eq "(a) event: recipient is the original recipient" unknown@remote.example \
		"$(evq recipient "code='$code'")"
	expect_eq "(a) event: verified, queue id of the bounce" "1|$bqid" \
		"$(evq "verified, queue_id" "code='$code'")"
	expect_eq "(a) event: linked to its send (sends.sender)" alice@example.nl \
		"$(e2e_sql "SELECT s.sender FROM events e JOIN sends s ON s.id = e.send_id WHERE e.code='$code'")"
	expect_eq "(a) event: reporting MTA is A" mx.e2e.test "$(evq reporting_mta "code='$code'")"
	expect_match "(a) event: diagnostic has B's reply" '550 5\.1\.1' "$(evq diagnostic "code='$code'")"
	line=$(log_lines ": bounce code=$code ")
	expect_match "(a) milter log line" \
		"^feedback-milter: $bqid: bounce code=$code class=hard reason=userunknown status=5\.1\.1 rcpt=<unknown@remote\.example> sender=<alice@example\.nl> .*spf=" \
		"$line"
	expect_match "(a) the log line names the original message" 'msgid=<case-a@e2e\.test>' "$line"
	check "(a) the bounce was discarded (milter-discard)" \
		e2e_wait_until "$E2E_TIMEOUT" "milter-discard for $bqid" pf_milter_discard "$bqid"
	check "(a) nothing reached the sink" test -z "$(grep -rl "$code" "$E2E_DIR/sink" 2>/dev/null)"
}

# (a2) control: without internal_mail_filter_classes = bounce, A's own
# bounce does not reach the milter at all (no event; delivered to the sink)
case_a2() {
	local code f
	e2e_postconf "internal_mail_filter_classes ="
	check "(a2) A reloaded without internal_mail_filter_classes" e2e_postfix_reload
	code=$(send_out "(a2)" case-a2 nobody@remote.example)
	check "(a2) the bounce went past the milter to the sink" \
		e2e_wait_until "$E2E_TIMEOUT" "the unfiltered bounce at the sink" \
		grep -rqi "^To: .*$code@$FB" "$E2E_DIR/sink"
	f=$(grep -rli "^To: .*$code@$FB" "$E2E_DIR/sink" | head -n 1)
	cp "$f" "$E2E_DIR/state/local-bounce.eml"
	expect_eq "(a2) no event for it" "" "$(evq id "code='$code'")"
	e2e_postconf "internal_mail_filter_classes = bounce"
	check "(a2) A reloaded with internal_mail_filter_classes = bounce" e2e_postfix_reload
}

# (b) B accepts, then cannot deliver (mailbox full): B's DSN comes back over
# SMTP through smtpd_milters
case_b() {
	local code line aqid
	code=$(send_out "(b)" case-b full@remote.example)
	check "(b) A delivered it to B" e2e_wait_until "$E2E_TIMEOUT" "A to deliver to B" \
		grep -q "to=<full@remote\.example>.*status=sent" "$E2E_DIR/postfix.log"
	check "(b) B bounced it (5.2.2) and sent a DSN" \
		e2e_wait_until "$E2E_TIMEOUT" "B to bounce" \
		grep -q "to=<full@remote\.example>.*dsn=5\.2\.2, status=bounced" "$E2E_DIR/remote.log"
	wait_event "(b)" "code='$code'"
	expect_eq "(b) event: class, reason, status, action" "soft|mailboxfull|5.2.2|failed" \
		"$(evq "class, reason, status, action" "code='$code'")"
	expect_eq "(b) event: recipient" full@remote.example "$(evq recipient "code='$code'")"
	expect_eq "(b) event: reporting MTA is B" mx.remote.example "$(evq reporting_mta "code='$code'")"
	expect_eq "(b) event: client, HELO, envelope sender" "127.0.0.1|mx.remote.example|" \
		"$(evq "client_addr, helo, coalesce(envfrom, '')" "code='$code'")"
	expect_eq "(b) event: linked to its send" alice@example.nl \
		"$(e2e_sql "SELECT s.sender FROM events e JOIN sends s ON s.id = e.send_id WHERE e.code='$code'")"
	line=$(log_lines ": bounce code=$code ")
	expect_match "(b) milter log line" \
		"bounce code=$code class=soft reason=mailboxfull status=5\.2\.2 rcpt=<full@remote\.example> sender=<alice@example\.nl> .*spf=pass" \
		"$line"
	aqid=$(remote_sent_qid "$code")
	expect_match "(b) B delivered its DSN to A over SMTP" '^[0-9A-Za-z]+$' "$aqid"
	expect_eq "(b) the event is that message (A's queue id)" "$aqid" "$(evq queue_id "code='$code'")"
	check "(b) A discarded it after SMTP from B (milter-discard, helo mx.remote.example)" \
		grep -q " $aqid: milter-discard: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: .*to=<$code@$FB> proto=ESMTP helo=<mx\.remote\.example>" \
		"$E2E_DIR/postfix.log"
}

# (b2) B accepts and defers: after delay_warning_time it sends an
# "Action: delayed" DSN
case_b2() {
	local code line
	code=$(send_out "(b2)" case-b2 slow@remote.example)
	check "(b2) B deferred it" e2e_wait_until "$E2E_TIMEOUT" "B to defer" \
		grep -q "to=<slow@remote\.example>.*status=deferred" "$E2E_DIR/remote.log"
	check "(b2) B sent a delay notification" e2e_wait_until "$E2E_TIMEOUT" "B's delay warning" \
		grep -q "sender delay notification" "$E2E_DIR/remote.log"
	wait_event "(b2)" "code='$code'"
	expect_eq "(b2) event: class, action" "delayed|delayed" "$(evq "class, action" "code='$code'")"
	expect_match "(b2) event: a 4.x.x status" '^4\.' "$(evq status "code='$code'")"
	expect_eq "(b2) the event is B's DSN (A's queue id)" "$(remote_sent_qid "$code")" \
		"$(evq queue_id "code='$code'")"
	line=$(log_lines ": delay code=$code ")
	expect_match "(b2) milter log line (delay)" \
		"delay code=$code class=delayed .*rcpt=<slow@remote\.example> sender=<alice@example\.nl>" "$line"
}

# (c) a DKIM-signed DSN from 192.0.2.10 (XCLIENT), null sender: SPF uses the
# HELO identity mx.remote.example ("v=spf1 a -all": pass)
case_c() {
	local code qid line
	code=$(send_out "(c)" case-c ok-c@remote.example)
	echo "$code" >"$E2E_DIR/state/c.code"
	make_dsn case-c-dsn "$code" ok-c@remote.example 5.1.1 \
		"550 5.1.1 <ok-c@remote.example>: Recipient address rejected: User unknown" \
		>"$E2E_DIR/state/dsn-c.eml"
	sign "$E2E_DIR/state/dsn-c.eml" "$E2E_DIR/state/dsn-c.signed.eml"
	check "(c) the signed DSN carries a DKIM-Signature for remote.example" \
		grep -q '^DKIM-Signature: .*d=remote\.example' "$E2E_DIR/state/dsn-c.signed.eml"
	qid=$(send_in "(c)" "$E2E_DIR/state/dsn-c.signed.eml" "$code@$FB")
	echo "$qid" >"$E2E_DIR/state/c.qid"
	wait_event "(c)" "queue_id='$qid'"
	expect_eq "(c) event: code, class, reason, status, recipient" \
		"$code|hard|userunknown|5.1.1|ok-c@remote.example" \
		"$(evq "code, class, reason, status, recipient" "queue_id='$qid'")"
	expect_eq "(c) event: client, HELO, envelope sender" "192.0.2.10|mx.remote.example|" \
		"$(evq "client_addr, helo, coalesce(envfrom, '')" "queue_id='$qid'")"
	expect_eq "(c) event: spf pass for the HELO identity" "pass|mx.remote.example" \
		"$(evq "spf_result, spf_domain" "queue_id='$qid'")"
	expect_eq "(c) event_sigs: dkim pass for remote.example" "remote.example:$SELECTOR:pass" \
		"$(sigs "e.queue_id='$qid'")"
	expect_eq "(c) event: remote MTA and reporting MTA" "store.remote.example|mx.remote.example" \
		"$(evq "remote_mta, reporting_mta" "queue_id='$qid'")"
	expect_ne_empty "(c) event: linked to its send" "$(evq send_id "queue_id='$qid'")"
	line=$(log_lines "^feedback-milter: $qid: bounce ")
	expect_match "(c) milter log line: spf=pass dkim=pass:remote.example" \
		"$qid: bounce code=$code class=hard reason=userunknown status=5\.1\.1 rcpt=<ok-c@remote\.example> sender=<alice@example\.nl> .*spf=pass dkim=pass:remote\.example" \
		"$line"
	check "(c) discarded (milter-discard)" \
		e2e_wait_until "$E2E_TIMEOUT" "milter-discard for $qid" pf_milter_discard "$qid"
}

# (d) the same DSN with one body byte changed: the signature fails
case_d() {
	local code qid f=$E2E_DIR/state/dsn-d.eml
	code=$(cat "$E2E_DIR/state/c.code")
	sed 's/^This is the mail system at host/This is the mail system at Host/' \
		"$E2E_DIR/state/dsn-c.signed.eml" >"$f"
	check "(d) exactly one byte differs" \
		test "$(cmp -l "$E2E_DIR/state/dsn-c.signed.eml" "$f" | wc -l)" -eq 1
	qid=$(send_in "(d)" "$f" "$code@$FB")
	wait_event "(d)" "queue_id='$qid'"
	expect_eq "(d) event_sigs: dkim fail for remote.example" "remote.example:$SELECTOR:fail" \
		"$(sigs "e.queue_id='$qid'")"
	expect_eq "(d) event: spf still pass" pass "$(evq spf_result "queue_id='$qid'")"
	expect_match "(d) milter log line: dkim=fail" "$qid: bounce code=$code .*dkim=fail" \
		"$(log_lines "^feedback-milter: $qid: bounce ")"
}

# (e) the signed DSN from 192.0.2.99, which mx.remote.example's SPF excludes
case_e() {
	local code qid
	code=$(cat "$E2E_DIR/state/c.code")
	qid=$(send_in "(e)" "$E2E_DIR/state/dsn-c.signed.eml" "$code@$FB" 192.0.2.99)
	wait_event "(e)" "queue_id='$qid'"
	expect_eq "(e) event: spf fail for the HELO identity" "fail|mx.remote.example|192.0.2.99" \
		"$(evq "spf_result, spf_domain, client_addr" "queue_id='$qid'")"
	expect_eq "(e) event_sigs: dkim still pass" "remote.example:$SELECTOR:pass" \
		"$(sigs "e.queue_id='$qid'")"
	expect_match "(e) milter log line: spf=fail" "$qid: bounce code=$code .*spf=fail" \
		"$(log_lines "^feedback-milter: $qid: bounce ")"
}

# refused CASE WHAT LOCALPART WHY - a DSN to LOCALPART@FB is refused at RCPT
# with 550 5.1.1, one reject log line, and no event
refused() {
	local name=$1 what=$2 local=$3 why=$4 reply before
	before=$(wc -l <"$E2E_DIR/milter.log")
	make_dsn "refused-$local" "$local" x@remote.example 5.1.1 "550 5.1.1 unknown" \
		>"$E2E_DIR/state/refused-$local.eml"
	reply=$(smtp_in "$E2E_DIR/state/refused-$local.eml" "$local@$FB")
	expect_match "$name $what: 550 5.1.1 at RCPT" '^550 RCPT 5\.1\.1 ' "$reply"
	expect_match "$name $what: reject log line" \
		"reject code=$local rcpt=<$local@$FB> client=192\.0\.2\.10 why=(\"$why\"|$why)( |$)" \
		"$(tail -n +"$((before + 1))" "$E2E_DIR/milter.log" | grep -F "reject code=$local " || true)"
	expect_eq "$name $what: no event" "" "$(evq id "code='$local'")"
}

# (f) forged, unknown-key, expired and malformed codes are refused at RCPT
case_f() {
	local code key kid secret other
	# each kind is checked to the end even if another one fails
	code=$(cat "$E2E_DIR/state/c.code")
	refused "(f)" "forged (one character changed)" "$(tamper "$code")" "bad MAC" || true
	read -r kid secret < <(signing_key)
	other=$(((kid + 7) % 32))
	key=$(make_code "$other" "$(openssl rand -hex 32)" 0)
	refused "(f)" "unknown key id $other" "$key" "unknown key" || true
	key=$(make_code "$kid" "$secret" -40)
	expect_eq "(f) feedbackctl: the 40-day-old code is expired (its MAC is good)" "invalid|expired" \
		"$(decode_field status "$key")|$(decode_field reason "$key")" || true
	refused "(f)" "expired (40 days, CodeLifetime 30d)" "$key" "expired" || true
	refused "(f)" "malformed" "not-a-code" "malformed code"
}

# (f2) a valid code that has no send record: recorded, send=unknown
case_f2() {
	local kid secret code qid
	read -r kid secret < <(signing_key)
	code=$(make_code "$kid" "$secret" 0)
	expect_eq "(f2) feedbackctl: the code is valid, without a send record" unknown \
		"$(decode_field status "$code")"
	make_dsn case-f2-dsn "$code" f2@remote.example 5.1.1 "550 5.1.1 unknown" >"$E2E_DIR/state/dsn-f2.eml"
	sign "$E2E_DIR/state/dsn-f2.eml" "$E2E_DIR/state/dsn-f2.signed.eml"
	qid=$(send_in "(f2)" "$E2E_DIR/state/dsn-f2.signed.eml" "$code@$FB")
	wait_event "(f2)" "queue_id='$qid'"
	expect_eq "(f2) event: verified, no send record" "$code|1|" "$(evq "code, verified, coalesce(send_id, '')" "queue_id='$qid'")"
	expect_match "(f2) milter log line: send=unknown" "$qid: bounce code=$code .*send=unknown" \
		"$(log_lines "^feedback-milter: $qid: bounce ")"
}

# (g) an RFC 3834 auto-reply and an RFC 5965 complaint
case_g() {
	local code qid line
	code=$(send_out "(g)" case-g bob@remote.example)
	echo "$code" >"$E2E_DIR/state/g.code"
	make_autoreply case-g-ar "$code" >"$E2E_DIR/state/ar-g.eml"
	sign "$E2E_DIR/state/ar-g.eml" "$E2E_DIR/state/ar-g.signed.eml"
	qid=$(send_in "(g) auto-reply" "$E2E_DIR/state/ar-g.signed.eml" "$code@$FB")
	wait_event "(g) auto-reply" "queue_id='$qid'"
	expect_eq "(g) auto-reply event: code, class, reason" "$code|autoreply|vacation" \
		"$(evq "code, class, reason" "queue_id='$qid'")"
	expect_eq "(g) auto-reply event: linked" alice@example.nl \
		"$(e2e_sql "SELECT s.sender FROM events e JOIN sends s ON s.id = e.send_id WHERE e.queue_id='$qid'")"
	line=$(log_lines "^feedback-milter: $qid: autoreply ")
	expect_match "(g) auto-reply log line" "$qid: autoreply code=$code class=autoreply reason=vacation .*sender=<alice@example\.nl>" "$line"

	code=$(send_out "(g)" case-g2 carol@remote.example)
	echo "$code" >"$E2E_DIR/state/g2.code"
	make_arf case-g-arf "$code" >"$E2E_DIR/state/arf-g.eml"
	sign "$E2E_DIR/state/arf-g.eml" "$E2E_DIR/state/arf-g.signed.eml"
	qid=$(send_in "(g) complaint" "$E2E_DIR/state/arf-g.signed.eml" "$code@$FB" 192.0.2.10 fbl@remote.example)
	wait_event "(g) complaint" "queue_id='$qid'"
	expect_eq "(g) complaint event: code, class, reason, feedback type" "$code|complaint|feedback|abuse" \
		"$(evq "code, class, reason, feedback_type" "queue_id='$qid'")"
	expect_eq "(g) complaint event: SPF for MAIL FROM remote.example" "pass|remote.example|fbl@remote.example" \
		"$(evq "spf_result, spf_domain, envfrom" "queue_id='$qid'")"
	expect_eq "(g) complaint event: linked" alice@example.nl \
		"$(e2e_sql "SELECT s.sender FROM events e JOIN sends s ON s.id = e.send_id WHERE e.queue_id='$qid'")"
	line=$(log_lines "^feedback-milter: $qid: complaint ")
	expect_match "(g) complaint log line" "$qid: complaint code=$code class=complaint .*sender=<alice@example\.nl>" "$line"
}

# (h) InboundAction accept for one class: auto-replies are delivered on (to
# the sink) with Authentication-Results; bounces are still discarded
case_h() {
	local code qid f ar dqid i
	reconfigure "InboundAction discard autoreply=accept"
	code=$(send_out "(h)" case-h dave@remote.example)
	# with a forged field under our authserv-id and a foreign one
	{
		printf 'Authentication-Results: mx.e2e.test; dkim=pass header.d=bank.example\r\n'
		printf 'Authentication-Results: other.example; spf=pass smtp.mailfrom=x.example\r\n'
		make_autoreply case-h-ar "$code"
	} >"$E2E_DIR/state/ar-h.eml"
	sign "$E2E_DIR/state/ar-h.eml" "$E2E_DIR/state/ar-h.signed.eml"
	qid=$(send_in "(h) auto-reply" "$E2E_DIR/state/ar-h.signed.eml" "$code@$FB")
	wait_event "(h)" "queue_id='$qid'"
	f=$(e2e_sink_wait case-h-ar) || true
	check "(h) the auto-reply was delivered on to the sink" test -n "$f"
	ar=$(e2e_sink_header "$f" Authentication-Results | tr '\n' ' ')
	check "(h) \"Authentication-Results: mx.e2e.test;\" (a space after the colon) above A's Received" \
		ar_header_ok "$f" || true
	expect_match "(h) it has Authentication-Results with spf=pass" 'spf=pass' "$ar"
	expect_match "(h) ... and dkim=pass" 'dkim=pass' "$ar"
	expect_match "(h) ... from our authserv-id" '^mx\.e2e\.test;' "$ar"
	expect_eq "(h) the forged field with our authserv-id is gone" 0 \
		"$(grep -c 'bank\.example' "$f" || true)"
	expect_eq "(h) ... one field of ours, the foreign one kept" "1 1" \
		"$(grep -c '^Authentication-Results: mx\.e2e\.test;' "$f") $(grep -c '^Authentication-Results: other\.example;' "$f")"
	expect_eq "(h) delivered to the coded address" "$code@$FB" "$(e2e_sink_rcpts "$f")"
	# more forged fields than the milter can remove: not delivered as ours
	{
		for i in $(seq 33); do
			printf 'Authentication-Results: MX.e2e.test; dkim=pass header.d=bank%d.example\r\n' "$i"
		done
		make_autoreply case-h-ar33 "$code"
	} >"$E2E_DIR/state/ar-h33.eml"
	qid=$(send_in "(h) 33 forged fields" "$E2E_DIR/state/ar-h33.eml" "$code@$FB")
	wait_event "(h) 33 forged fields" "queue_id='$qid'"
	check "(h) 33 forged fields: discarded instead of delivered" \
		e2e_wait_until "$E2E_TIMEOUT" "milter-discard for $qid" pf_milter_discard "$qid"
	check "(h) ... not at the sink" test -z "$(e2e_sink_file case-h-ar33)"
	expect_match "(h) ... with a limits: log line" \
		"$qid: limits: 1 of 33 Authentication-Results fields claiming our authserv-id cannot be removed: discarded, not delivered" \
		"$(log_lines "^feedback-milter: $qid: limits: ")"
	expect_eq "(h) ... and its event recorded" autoreply "$(evq class "queue_id='$qid'")"
	make_dsn case-h-dsn "$code" dave@remote.example 5.1.1 "550 5.1.1 unknown" >"$E2E_DIR/state/dsn-h.eml"
	sign "$E2E_DIR/state/dsn-h.eml" "$E2E_DIR/state/dsn-h.signed.eml"
	dqid=$(send_in "(h) bounce" "$E2E_DIR/state/dsn-h.signed.eml" "$code@$FB")
	wait_event "(h) bounce" "queue_id='$dqid'"
	check "(h) the bounce (class hard) is still discarded" \
		e2e_wait_until "$E2E_TIMEOUT" "milter-discard for $dqid" pf_milter_discard "$dqid"
	check "(h) ... and not at the sink" test -z "$(e2e_sink_file case-h-dsn)"
	reconfigure
}

# (i) RequireAuthentication dkim: an unsigned bounce is discarded unrecorded
case_i() {
	local code qid sqid
	reconfigure "RequireAuthentication dkim"
	code=$(cat "$E2E_DIR/state/c.code")
	make_dsn case-i-dsn "$code" ok-c@remote.example 5.1.1 "550 5.1.1 unknown" >"$E2E_DIR/state/dsn-i.eml"
	qid=$(send_in "(i) unsigned" "$E2E_DIR/state/dsn-i.eml" "$code@$FB")
	check "(i) unsigned: discarded" \
		e2e_wait_until "$E2E_TIMEOUT" "milter-discard for $qid" pf_milter_discard "$qid"
	expect_match "(i) unsigned: 'unauthenticated ... not recorded' log line" \
		"$qid: unauthenticated code=$code spf=pass dkim=none.*not recorded" \
		"$(log_lines "^feedback-milter: $qid: unauthenticated ")"
	expect_eq "(i) unsigned: no event" "" "$(evq id "queue_id='$qid'")"
	sqid=$(send_in "(i) signed" "$E2E_DIR/state/dsn-c.signed.eml" "$code@$FB")
	wait_event "(i) signed" "queue_id='$sqid'"
	expect_eq "(i) signed: recorded" hard "$(evq class "queue_id='$sqid'")"
	reconfigure
}

# (i2) BadCodeAction accept: a forged code is taken, recorded unverified
case_i2() {
	local code forged qid
	reconfigure "BadCodeAction accept"
	code=$(cat "$E2E_DIR/state/c.code")
	forged=$(tamper "$code")
	make_dsn case-i2-dsn "$forged" i2@remote.example 5.1.1 "550 5.1.1 unknown" >"$E2E_DIR/state/dsn-i2.eml"
	qid=$(send_in "(i2)" "$E2E_DIR/state/dsn-i2.eml" "$forged@$FB")
	wait_event "(i2)" "queue_id='$qid'"
	expect_eq "(i2) event: unverified, no send" "$forged|0|" \
		"$(evq "code, verified, coalesce(send_id, '')" "queue_id='$qid'")"
	expect_match "(i2) log line: verified=no" "$qid: bounce code=$forged .*verified=no" \
		"$(log_lines "^feedback-milter: $qid: bounce ")"
	reconfigure
}

# (j) the store is locked past DatabaseBusyTimeout: 451, nothing recorded;
# sent again after the lock is gone, it is recorded
case_j() {
	local code flag=$E2E_DIR/state/locked holder reply before n qid
	code=$(cat "$E2E_DIR/state/c.code")
	make_dsn case-j-dsn "$code" j@remote.example 5.1.1 "550 5.1.1 unknown" >"$E2E_DIR/state/dsn-j.eml"
	sign "$E2E_DIR/state/dsn-j.eml" "$E2E_DIR/state/dsn-j.signed.eml"
	before=$(wc -l <"$E2E_DIR/milter.log")
	n=$(evq "count(*)" "code='$code'")
	python3 - "$E2E_DIR/db/feedback.db" "$flag" 5 <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").write("locked\n")
time.sleep(float(sys.argv[3]))
db.execute("COMMIT")
PY
	holder=$!
	check "(j) another process holds the database lock" \
		e2e_wait_until "$E2E_TIMEOUT" "the lock holder" test -s "$flag"
	reply=$(smtp_in "$E2E_DIR/state/dsn-j.signed.eml" "$code@$FB")
	expect_match "(j) the bounce is tempfailed at end of DATA (451)" '^451 DATA 4\.' "$reply"
	check "(j) the milter logged the store failure" \
		e2e_log_after "$E2E_DIR/milter.log" "$before" "tempfail reason=store code=$code"
	wait "$holder" || true
	expect_eq "(j) nothing was recorded" "$n" "$(evq "count(*)" "code='$code'")"
	qid=$(send_in "(j) resent" "$E2E_DIR/state/dsn-j.signed.eml" "$code@$FB")
	wait_event "(j) resent" "queue_id='$qid'"
	# one recipient in the send: the code names it, whatever the DSN says
	expect_eq "(j) resent: recorded" "hard|ok-c@remote.example" "$(evq "class, recipient" "queue_id='$qid'")"
}

# remote_deferred CODE ERE - B's log shows its DSN to CODE@FB deferred, with
# a reason matching ERE
remote_deferred() {
	grep -Eq "to=<$1@$FB>.* status=deferred \($2" "$E2E_DIR/remote.log"
}

# remote_restart [NAME=VALUE...] - restart B with main.cf changes (a
# restart, not a reload: after a reload the old queue manager may still
# deliver, and a message it leaves in the active queue is skipped)
remote_restart() {
	(($#)) && postconf -c "$E2E_REMOTE_PF" -e "$@"
	e2e_remote_stop
	e2e_remote_start
}

# (j2) the same with B's DSN: A answers 451 while the store is locked, B
# keeps the DSN, and it is recorded when B tries again after the lock is
# gone. B holds its outgoing mail (defer_transports = smtp) so that the
# lock is in place before its first attempt; postqueue -f stands for B's
# next queue runs.
case_j2() {
	local code flag=$E2E_DIR/state/locked2 holder
	check "(j2) B restarted with defer_transports = smtp" remote_restart "defer_transports = smtp"
	code=$(send_out "(j2)" case-j2 full@remote.example)
	check "(j2) B holds its DSN" e2e_wait_until "$E2E_TIMEOUT" "B to hold the DSN" \
		remote_deferred "$code" "deferred transport"
	python3 - "$E2E_DIR/db/feedback.db" "$flag" 4 <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").write("locked\n")
time.sleep(float(sys.argv[3]))
db.execute("COMMIT")
PY
	holder=$!
	check "(j2) another process holds the database lock" \
		e2e_wait_until "$E2E_TIMEOUT" "the lock holder" test -s "$flag"
	postqueue -c "$E2E_REMOTE_PF" -f
	check "(j2) A answered B's DSN with 451 4.3.0 and B kept it" \
		e2e_wait_until "$E2E_TIMEOUT" "B to get the 451" \
		remote_deferred "$code" "host 127\.0\.0\.1.* said: 451 4\.3\.0"
	expect_eq "(j2) nothing recorded while locked" "" "$(evq id "code='$code'")"
	wait "$holder" || true
	postqueue -c "$E2E_REMOTE_PF" -f
	wait_event "(j2) B's next attempt, after the lock" "code='$code'"
	expect_eq "(j2) recorded: class, reason, recipient" "soft|mailboxfull|full@remote.example" \
		"$(evq "class, reason, recipient" "code='$code'")"
	expect_eq "(j2) the event is B's DSN, delivered the second time (A's queue id)" \
		"$(remote_sent_qid "$code")" "$(evq queue_id "code='$code'")"
	check "(j2) B restarted without defer_transports" remote_restart "defer_transports ="
}

# parsed FILE - feedbackctl parse --json FILE, the first event's class,
# reason, status, recipient and kind joined by '|' (as evq prints them)
parsed() {
	"$FEEDBACKCTL" parse --json "$1" 2>>"$E2E_DIR/feedbackctl.log" | head -n 1 | python3 -c '
import json, sys
v = json.loads(sys.stdin.readline() or "{}")
print("|".join(str(v.get(k) or "") for k in ("class", "reason", "status", "recipient", "kind")))
'
}

# (k) feedbackctl parse --json agrees with the recorded events
case_k() {
	local qid rc=0 cols="class, reason, coalesce(status, ''), recipient, kind"
	"$FEEDBACKCTL" parse --json "$E2E_DIR/state/dsn-c.signed.eml" >/dev/null 2>&1 || rc=$?
	expect_eq "(k) feedbackctl parse --json exits 0" 0 "$rc"
	qid=$(cat "$E2E_DIR/state/c.qid")
	expect_eq "(k) (c)'s DSN: class|reason|status|recipient|kind as recorded" \
		"$(evq "$cols" "queue_id='$qid'")" "$(parsed "$E2E_DIR/state/dsn-c.signed.eml")"
	qid=$(evq queue_id "code='$(cat "$E2E_DIR/state/g.code")' AND class='autoreply'")
	expect_eq "(k) (g)'s auto-reply: as recorded" \
		"$(evq "$cols" "queue_id='$qid'")" "$(parsed "$E2E_DIR/state/ar-g.signed.eml")"
	qid=$(evq queue_id "code='$(cat "$E2E_DIR/state/g2.code")' AND class='complaint'")
	expect_eq "(k) (g)'s complaint: as recorded" \
		"$(evq "$cols" "queue_id='$qid'")" "$(parsed "$E2E_DIR/state/arf-g.signed.eml")"
	if [[ -s $E2E_DIR/state/local-bounce.eml ]]; then
		expect_eq "(k) A's own bounce from (a2), as delivered: like (a)'s event" \
			"hard|userunknown|5.1.1|nobody@remote.example|dsn" "$(parsed "$E2E_DIR/state/local-bounce.eml")"
	fi
}

# (z) clean shutdown
case_z() {
	local pid
	pid=$(e2e_milter_pid)
	e2e_milter_stop
	check "(z) the milter (pid $pid) exited on SIGTERM" e2e_pid_gone "$pid"
	expect_eq "(z) its last log line says it stopped" "feedback-milter: stopped" \
		"$(tail -n 1 "$E2E_DIR/milter.log")"
	# every send and event of this suite went through the store
	local line nrec ncommit nrows
	line=$(grep 'store: ' "$E2E_DIR/milter.log" | tail -n 1)
	expect_match "(z) it logged what the store wrote" \
		'^feedback-milter: store: [0-9]+ records in [0-9]+ commits$' "$line"
	nrec=$(sed -n 's/^feedback-milter: store: \([0-9]*\) records.*/\1/p' <<<"$line")
	ncommit=$(sed -n 's/.* records in \([0-9]*\) commits$/\1/p' <<<"$line")
	nrows=$(e2e_sql 'SELECT (SELECT count(*) FROM sends) + (SELECT count(*) FROM events)')
	expect_eq "(z) its records are the sends and events in the store" "$nrows" "$nrec"
	check "(z) no more commits than records" test "${ncommit:-0}" -le "${nrec:-0}"
	# the same remote.example key signs several reports: decoded once, then
	# taken from the key cache (milter/keycache.c)
	expect_match "(z) DKIM keys were decoded, and reused for later reports" \
		'^feedback-milter: DKIM keys: [1-9][0-9]* decoded, [1-9][0-9]* reused, 0 not decodable$' \
		"$(grep 'DKIM keys:' "$E2E_DIR/milter.log" | tail -n 1)"
	if e2e_milter_log_clean; then
		pass "(z) no sanitizer report in the milter log"
	else
		fail "(z) no sanitizer report in the milter log" \
			"$(grep -E -m 5 'Sanitizer|runtime error:' "$E2E_DIR/milter.log")"
	fi
}

# --------------------------------------------------------------------------

setup_dns() {
	local z
	mkdir -p "$E2E_DIR/zones"
	cp "$E2E_TOP"/tests/dns/zones/*.zone "$E2E_DIR/zones/"
	DKIM_KEY=$(e2e_dkim_key remote.example "$SELECTOR" "$E2E_DIR/zones/remote.example.zone")
	local zones=()
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
	E2E_REMOTE_DELAY_WARNING=1s e2e_remote_setup
	e2e_remote_map recipient_access unknown@remote.example "550 5.1.1 User unknown"
	e2e_remote_map recipient_access nobody@remote.example "550 5.1.1 User unknown"
	e2e_remote_map transport full@remote.example "mailstore:5.2.2 Mailbox full"
	e2e_remote_map transport slow@remote.example "mailstore:4.2.1 Mailbox busy, try again later"
	e2e_remote_map transport "$FB" "smtp:[127.0.0.1]:$E2E_SMTP_PORT"
}

main() {
	checks_begin checks_on_exit openssl
	e2e_ensure_dkimsign
	read -r E2E_SMTP_PORT E2E_SINK_PORT E2E_REMOTE_PORT < <(e2e_free_ports 3)
	setup_dns
	e2e_sink_start --dump
	setup_postfix_b
	setup_postfix_a
	BASE_CONFIG=(
		"SenderDomain example.nl"
		"TrustedClients 127.0.0.0/8, ::1/128"
		"DatabaseBusyTimeout 1s"
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
	expect_eq "DNS: the test server publishes the DKIM key" "$("$DKIMSIGN" -p -k "$DKIM_KEY")" \
		"$(e2e_dns_query "$SELECTOR._domainkey.remote.example" TXT)"
	expect_eq "DNS: mx.remote.example is 192.0.2.10" 192.0.2.10 "$(e2e_dns_query mx.remote.example A)"

	run_case "(a) A bounces a recipient B refused" case_a
	run_case "(a2) without internal_mail_filter_classes" case_a2
	if [[ $(postconf -c "$E2E_PF" -h internal_mail_filter_classes) != bounce ]]; then
		e2e_postconf "internal_mail_filter_classes = bounce"
		e2e_postfix_reload || true
	fi
	run_case "(b) B's DSN over SMTP (mailbox full)" case_b
	run_case "(b2) B's delay notification" case_b2
	run_case "(c) signed DSN, SPF by HELO" case_c
	run_case "(d) signature broken" case_d
	run_case "(e) SPF fail" case_e
	run_case "(f) bad codes refused at RCPT" case_f
	run_case "(f2) valid code without a send record" case_f2
	run_case "(g) auto-reply and complaint" case_g
	run_case_cfg "(h) InboundAction accept for auto-replies" case_h
	run_case_cfg "(i) RequireAuthentication dkim" case_i
	run_case_cfg "(i2) BadCodeAction accept" case_i2
	run_case "(j) store locked" case_j
	run_case "(j2) store locked, B retries its DSN" case_j2
	run_case "(k) feedbackctl parse" case_k
	run_case "(z) clean shutdown" case_z

	summary
	(($(count FAIL) == 0))
}

main "$@"
