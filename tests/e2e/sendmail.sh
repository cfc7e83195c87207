#!/bin/bash
#
# tests/e2e/sendmail.sh - end-to-end tests with a real Sendmail: Debian's
# sendmail-bin, run from a private copy (the package conflicts with Postfix,
# so it is unpacked, not installed), its sendmail.cf built with m4 from
# sendmail-cf and the INPUT_MAIL_FILTER line of feedback-milter(8), listening
# on loopback and relaying to smtp-sink. Sendmail speaks the milter protocol
# differently from Postfix (macros, nothing sent between two messages of a
# session, its own queue ids), so the rewrite, the RCPT check, the default
# action and a bounce of Sendmail's own are checked through it too.
#
# Run as root from anywhere: tests/e2e/sendmail.sh
# Prints one line per check and closes with "N passed, M failed"; exits
# non-zero if any check failed. See tests/e2e/README.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

SM_ROOT=""		# the unpacked packages
SM_BIN=""		# their sendmail binary
SM_DIR=""		# configuration, queue, PID file
SM_PORT=""

# --------------------------------------------------------------------------
# A private Sendmail

# sm_unpack - sendmail-bin and sendmail-cf unpacked under the work
# directory, the libraries the binary links installed
sm_unpack() {
	local d=$E2E_DIR/sendmail-debs
	e2e_install m4 libdb5.3 liblockfile1 libnsl2 libwrap0 libldap-2.5-0 libsasl2-2
	mkdir -p "$d"
	if ! (cd "$d" && apt-get download sendmail-bin sendmail-cf >"$E2E_DIR/apt.log" 2>&1); then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		(cd "$d" && apt-get download sendmail-bin sendmail-cf >>"$E2E_DIR/apt.log" 2>&1) ||
			e2e_die "apt-get download sendmail-bin sendmail-cf failed: $(tail -n 3 "$E2E_DIR/apt.log")"
	fi
	SM_ROOT=$E2E_DIR/sendmail-root
	local deb
	for deb in "$d"/*.deb; do
		dpkg -x "$deb" "$SM_ROOT"
	done
	SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
	[[ -x $SM_BIN ]] || e2e_die "no sendmail binary in the sendmail-bin package"
	if ldd "$SM_BIN" | grep -q 'not found'; then
		e2e_die "sendmail misses libraries: $(ldd "$SM_BIN" | grep 'not found' | tr '\n' ' ')"
	fi
}

# sm_tls_files - a self-signed certificate and its key for STARTTLS, where
# Sendmail accepts them (the key readable by its owner only)
sm_tls_files() {
	local d=$SM_DIR/tls
	mkdir -p "$d"
	chmod 0700 "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mta.e2e.test" \
		-keyout "$d/key.pem" -out "$d/cert.pem" >"$E2E_DIR/openssl.log" 2>&1 ||
		e2e_die "openssl could not make a certificate: $(tail -n 3 "$E2E_DIR/openssl.log")"
	chmod 0600 "$d/key.pem"
}

# sm_config - sendmail.cf from an m4 file: loopback only, no DNS (host names
# from a hosts file of its own), STARTTLS offered, every recipient relayed
# to the sink but bad.example's and the feedback domain's (back into the
# daemon), and the milter as feedback-milter(8) shows it
sm_config() {
	local cf=$SM_ROOT/usr/share/sendmail/cf
	SM_DIR=$E2E_DIR/sendmail
	mkdir -p "$SM_DIR/queue"
	chmod 0700 "$SM_DIR/queue"
	sm_tls_files
	printf 'hosts files\naliases files\n' >"$SM_DIR/service.switch"
	printf '127.0.0.1 localhost mta.e2e.test\n' >"$SM_DIR/hosts"
	: >"$SM_DIR/local-host-names"
	cat >"$SM_DIR/sendmail.mc" <<-EOF
		divert(-1)
		divert(0)dnl
		include(\`$cf/m4/cf.m4')dnl
		VERSIONID(\`feedback-milter end-to-end tests')dnl
		OSTYPE(\`linux')dnl
		define(\`confDOMAIN_NAME', \`mta.e2e.test')dnl
		define(\`confDONT_PROBE_INTERFACES', \`True')dnl
		define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/service.switch')dnl
		define(\`confHOSTS_FILE', \`$SM_DIR/hosts')dnl
		define(\`confCW_FILE', \`$SM_DIR/local-host-names')dnl
		define(\`QUEUE_DIR', \`$SM_DIR/queue')dnl
		define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl
		define(\`STATUS_FILE', \`$SM_DIR/statistics')dnl
		define(\`ALIAS_FILE', \`')dnl
		define(\`HELP_FILE', \`$SM_DIR/helpfile')dnl
		dnl the milter socket lies under /tmp, world-writable with the sticky bit
		define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
		define(\`confTO_IDENT', \`0')dnl
		define(\`confDELIVERY_MODE', \`background')dnl
		define(\`confMILTER_LOG_LEVEL', \`2')dnl
		define(\`confCACERT_PATH', \`$SM_DIR/tls')dnl
		define(\`confCACERT', \`$SM_DIR/tls/cert.pem')dnl
		define(\`confSERVER_CERT', \`$SM_DIR/tls/cert.pem')dnl
		define(\`confSERVER_KEY', \`$SM_DIR/tls/key.pem')dnl
		define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
		define(\`ESMTP_MAILER_ARGS', \`TCP \$h $E2E_SINK_PORT')dnl
		dnl the relay mailer takes the feedback domain back into the daemon
		define(\`RELAY_MAILER_ARGS', \`TCP \$h $SM_PORT')dnl
		MODIFY_MAILER_FLAGS(\`RELAY', \`+k')dnl
		dnl no MSA daemon on port 587 of every address
		FEATURE(\`no_default_msa')dnl
		FEATURE(\`mailertable', \`hash -o $SM_DIR/mailertable')dnl
		FEATURE(\`nocanonify')dnl
		FEATURE(\`accept_unresolvable_domains')dnl
		FEATURE(\`promiscuous_relay')dnl
		DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
		INPUT_MAIL_FILTER(\`feedback-milter', \`S=unix:$E2E_MILTER_SOCK, F=T, T=S:30s;R:30s;E:2m')dnl
		MAILER(\`smtp')dnl
	EOF
	m4 "$SM_DIR/sendmail.mc" >"$SM_DIR/sendmail.cf" 2>"$SM_DIR/m4.log" ||
		e2e_die "m4 could not build sendmail.cf: $(tail -n 3 "$SM_DIR/m4.log")"
	# bad.example goes to a second sink, on 127.0.0.2, that refuses every
	# recipient: Sendmail then bounces to the coded sender, and its bounce
	# comes back into the daemon through the relay mailer
	printf 'bad.example\tesmtp:[127.0.0.2]\nfeedback.example.nl\trelay:[127.0.0.1]\n' |
		"$SM_ROOT/usr/libexec/sendmail/makemap" -C "$SM_DIR/sendmail.cf" -s hash \
			"$SM_DIR/mailertable" 2>>"$SM_DIR/makemap.log" ||
		e2e_die "makemap could not build the mailertable: $(tail -n 3 "$SM_DIR/makemap.log")"
	chmod 0600 "$SM_DIR/mailertable.db"
}

# sm_submit_config - submit.cf for local submission with Sendmail's own
# sendmail command (the mail submission program, FEATURE(msp)): it relays
# everything over SMTP to the daemon on 127.0.0.1, which runs the milter
sm_submit_config() {
	local cf=$SM_ROOT/usr/share/sendmail/cf
	# the submission program refuses to run as root: it runs as nobody
	mkdir -p "$SM_DIR/clientmqueue"
	chown nobody:nogroup "$SM_DIR/clientmqueue"
	chmod 0770 "$SM_DIR/clientmqueue"
	cat >"$SM_DIR/submit.mc" <<-EOF
		divert(-1)
		divert(0)dnl
		include(\`$cf/m4/cf.m4')dnl
		VERSIONID(\`feedback-milter end-to-end tests, submission')dnl
		OSTYPE(\`linux')dnl
		define(\`confDOMAIN_NAME', \`mta.e2e.test')dnl
		define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/service.switch')dnl
		define(\`confHOSTS_FILE', \`$SM_DIR/hosts')dnl
		define(\`confCW_FILE', \`$SM_DIR/local-host-names')dnl
		define(\`confRUN_AS_USER', \`nobody:nogroup')dnl
		define(\`MSP_QUEUE_DIR', \`$SM_DIR/clientmqueue')dnl
		define(\`confPID_FILE', \`$SM_DIR/sm-client.pid')dnl
		define(\`STATUS_FILE', \`$SM_DIR/sm-client.st')dnl
		define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
		define(\`RELAY_MAILER_ARGS', \`TCP \$h $SM_PORT')dnl
		FEATURE(\`msp', \`[127.0.0.1]')dnl
	EOF
	m4 "$SM_DIR/submit.mc" >"$SM_DIR/submit.cf" 2>"$SM_DIR/m4-submit.log" ||
		e2e_die "m4 could not build submit.cf: $(tail -n 3 "$SM_DIR/m4-submit.log")"
}

# sm_submit TOKEN FROM RCPT - one message through sendmail -t with submit.cf
# (in the daemon's UTS namespace name, see sm_start); returns its status
sm_submit() {
	local msg=$E2E_DIR/state/$1.msg
	sm_message "$1" "$2" "$3" >"$msg"
	unshare --uts sh -c 'hostname mta.e2e.test && exec "$@"' sh \
		"$SM_BIN" -C "$SM_DIR/submit.cf" -f "$2" -t <"$msg" >>"$E2E_DIR/submit.log" 2>&1
}

# bad_sink_start - smtp-sink on 127.0.0.2, the sink's port, refusing RCPT
bad_sink_start() {
	smtp-sink -u postfix -h bad.example -f RCPT "127.0.0.2:$E2E_SINK_PORT" 64 \
		>>"$E2E_DIR/bad-sink.log" 2>&1 &
	e2e_pid_save bad-sink $!
	e2e_wait_until "$E2E_TIMEOUT" "the refusing sink on 127.0.0.2" \
		bad_sink_open || e2e_die "the refusing sink did not start"
}

bad_sink_open() { (exec 3<>"/dev/tcp/127.0.0.2/$E2E_SINK_PORT") 2>/dev/null; }

# sm_start - the daemon in the foreground (-bD), in the background of
# this shell; wait for its port
sm_start() {
	# A host name without a dot makes Sendmail sleep a minute at start
	# ("My unqualified host name ... unknown"): it runs in a UTS namespace
	# of its own, named mta.e2e.test.
	unshare --uts sh -c 'hostname mta.e2e.test && exec "$@"' sh \
		"$SM_BIN" -bD -C "$SM_DIR/sendmail.cf" -q1m -O LogLevel=9 \
		>>"$E2E_DIR/sendmail.log" 2>&1 &
	e2e_pid_save sendmail $!
	e2e_wait_until "$E2E_TIMEOUT" "Sendmail on port $SM_PORT" e2e_port_open "$SM_PORT" ||
		e2e_die "Sendmail did not start: $(tail -n 5 "$E2E_DIR/sendmail.log")"
}

sm_stop() {
	e2e_stop_pid "$(e2e_pid_read sendmail)" sendmail 10
	e2e_pid_forget sendmail
	e2e_stop_pid "$(e2e_pid_read bad-sink)" bad-sink 10
	e2e_pid_forget bad-sink
}

# sm_send TOKEN FROM RCPT... - one message to Sendmail; prints "250 QID" or
# the failing reply, like e2e_smtp_send
sm_send() { e2e_smtp_send --port "$SM_PORT" "$@"; }

# sm_session TOKEN1 RCPT1 TOKEN2 RCPT2 FROM - two messages in one SMTP
# session; prints a line "CODE QID" per message
sm_session() {
	python3 - "$SM_PORT" "$@" <<-'PY'
		import re, smtplib, sys
		port, t1, r1, t2, r2, sender = sys.argv[1:7]
		s = smtplib.SMTP("127.0.0.1", int(port), local_hostname="client.e2e.test", timeout=60)
		s.ehlo()
		for tok, rcpt in ((t1, r1), (t2, r2)):
		    msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@e2e.test>\r\n\r\n"
		           "Test message %s.\r\nEND %s\r\n") % (sender, rcpt, tok, tok, tok, tok)
		    s.mail(sender)
		    s.rcpt(rcpt)
		    code, text = s.data(msg)
		    text = text.decode(errors="replace")
		    m = re.search(r"^2\.0\.0 ([0-9A-Za-z]+) ", text)
		    print(code, m.group(1) if m else "?")
		s.quit()
	PY
}

# sm_message TOKEN FROM RCPT - a test message for TOKEN on standard output
sm_message() {
	printf 'From: <%s>\nTo: <%s>\nSubject: %s\nMessage-ID: <%s@e2e.test>\n\nTest message %s.\nEND %s\n' \
		"${2:-postmaster@post-tls.e2e.test}" "$3" "$1" "$1" "$1" "$1"
}

# sm_tls_send TOKEN FROM RCPT - one message to Sendmail after STARTTLS:
# EHLO pre-tls.e2e.test, STARTTLS, EHLO post-tls.e2e.test; prints "250 QID"
# or the failing reply ("000 ..." when STARTTLS is not offered). CR LF line
# ends: Sendmail refuses a bare LF in DATA.
sm_tls_send() {
	local msg=$E2E_DIR/state/$1.msg
	sm_message "$1" "$2" "$3" | sed 's/$/\r/' >"$msg"
	E2E_SMTP_PORT=$SM_PORT E2E_SMTP_TLS_HELO=post-tls.e2e.test \
		e2e_smtp_raw "$2" "$3" "$msg" pre-tls.e2e.test
}

# sink_coded LABEL TOKEN - TOKEN's message at the sink left with a coded
# MAIL FROM: sets SINK_FROM and SINK_JSON (feedbackctl decode --json);
# returns 1, after a failed check, when there is no such message
SINK_FROM=""
SINK_JSON=""
sink_coded() {
	local f
	SINK_FROM=""
	SINK_JSON=""
	f=$(sink_file "$1" "$2")
	[[ -n $f ]] || return 1
	SINK_FROM=$(e2e_sink_mail_from "$f")
	expect_match "$1 it leaves with a coded MAIL FROM" \
		"^$CODE_RE@feedback\.example\.nl$" "$SINK_FROM"
	SINK_JSON=$(decode_json "$1" "$SINK_FROM")
}

# --------------------------------------------------------------------------
# Cases

# (a) a message from the sender domain leaves with a coded MAIL FROM that
# decodes to its send record, with Sendmail's queue id
case_a() {
	local reply qid code json
	reply=$(sm_send case-a alice@example.nl rcpt-a@remote.example)
	expect_match "(a) Sendmail accepted the message" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	sink_coded "(a)" case-a || return 0
	code=${SINK_FROM%@*}
	json=$SINK_JSON
	expect_eq "(a) decode: the original sender" "alice@example.nl" "$(jget sender "$json")"
	expect_eq "(a) decode: the recipient" "rcpt-a@remote.example" "$(jget recipients "$json")"
	expect_eq "(a) decode: Sendmail's queue id" "$qid" "$(jget queue_id "$json")"
	expect_eq "(a) decode: the client address" "127.0.0.1" "$(jget client "$json")"
	expect_eq "(a) decode: the Message-ID" "<case-a@e2e.test>" "$(jget msgid "$json")"
	check "(a) the milter logged the rewrite with Sendmail's queue id" \
		grep -q "^feedback-milter: $qid: rewrite code=$code " "$E2E_DIR/milter.log"
}

# (b) two messages in one SMTP session: Sendmail sends the milter nothing
# between them (no abort after a completed message); each still gets its
# own code and record
case_b() {
	local out q1 q2 f1 f2 c1 c2
	out=$(sm_session case-b1 rcpt-b1@remote.example case-b2 rcpt-b2@remote.example bob@example.nl)
	q1=$(sed -n '1s/^250 //p' <<<"$out")
	q2=$(sed -n '2s/^250 //p' <<<"$out")
	expect_match "(b) both messages accepted" '^250 [0-9A-Za-z]+
250 [0-9A-Za-z]+$' "$out"
	f1=$(sink_file "(b) first" case-b1)
	f2=$(sink_file "(b) second" case-b2)
	[[ -n $f1 && -n $f2 ]] || return 0
	c1=$(e2e_sink_mail_from "$f1")
	c2=$(e2e_sink_mail_from "$f2")
	expect_match "(b) the first is coded" "^$CODE_RE@feedback\.example\.nl$" "$c1"
	expect_match "(b) the second is coded" "^$CODE_RE@feedback\.example\.nl$" "$c2"
	check "(b) the two codes differ" test "$c1" != "$c2"
	expect_eq "(b) the first decodes to its own recipient" "rcpt-b1@remote.example" \
		"$(jget recipients "$(decode_json "(b) first" "$c1")")"
	expect_eq "(b) the second decodes to its own recipient" "rcpt-b2@remote.example" \
		"$(jget recipients "$(decode_json "(b) second" "$c2")")"
	expect_eq "(b) the second's queue id" "$q2" "$(jget queue_id "$(decode_json "(b) second" "$c2")")"
	expect_eq "(b) the first's Message-ID is not carried into the second" "<case-b2@e2e.test>" \
		"$(jget msgid "$(decode_json "(b) second" "$c2")")"
	check "(b) the first's queue id differs" test "$q1" != "$q2"
}

# (c) another domain's sender passes unchanged
case_c() {
	local reply f
	reply=$(sm_send case-c carol@other.example rcpt-c@remote.example)
	expect_match "(c) Sendmail accepted the message" '^250 [0-9A-Za-z]+$' "$reply"
	f=$(sink_file "(c)" case-c)
	[[ -n $f ]] || return 0
	expect_eq "(c) MAIL FROM unchanged" "carol@other.example" "$(e2e_sink_mail_from "$f")"
}

# (d) a forged code is refused at RCPT, through Sendmail, with the milter's
# reply; a real one is taken
case_d() {
	local reply good code last forged
	good=$(e2e_sink_mail_from "$(e2e_sink_file case-a)")
	code=${good%@*}
	# the last character changed within the code alphabet: well formed,
	# but its MAC does not match
	last=${code: -1}
	[[ $last == 0 ]] && last=1 || last=0
	forged=${code%?}$last@feedback.example.nl
	reply=$(sm_send case-d1 "" "$forged")
	expect_match "(d) a forged code is refused at RCPT (5xx)" '^5[0-9][0-9] RCPT ' "$reply"
	expect_match "(d) the milter logged the refusal" "reject code=${forged%@*} .*why=" \
		"$(grep -h "reject code=${forged%@*} " "$E2E_DIR/milter.log")"
	reply=$(sm_send case-d2 "" "$good")
	expect_match "(d) the real code is accepted" '^250 [0-9A-Za-z]+$' "$reply"
	# not a report: recorded as an event of class unknown, linked to (a)
	expect_eq "(d) its event is recorded under Sendmail's queue id, linked to its send" \
		"unknown|${good%@*}|alice@example.nl" \
		"$(e2e_sql "SELECT e.class, s.code, s.sender FROM events e JOIN sends s ON s.id = e.send_id WHERE e.queue_id = '${reply#250 }'")"
}

# (e) the milter stopped: Sendmail (F=T) answers 4xx, nothing leaves
case_e() {
	local reply
	e2e_milter_stop
	reply=$(sm_send case-e erin@example.nl rcpt-e@remote.example)
	expect_match "(e) milter stopped: Sendmail defers (4xx)" '^4[0-9][0-9] ' "$reply"
	sleep 2
	check "(e) nothing reached the sink" test -z "$(e2e_sink_file case-e)"
	e2e_milter_start
	reply=$(sm_send case-e2 erin@example.nl rcpt-e@remote.example)
	expect_match "(e) after a restart Sendmail takes mail again" '^250 [0-9A-Za-z]+$' "$reply"
	local f
	f=$(sink_file "(e) after restart" case-e2)
	[[ -n $f ]] || return 0
	expect_match "(e) after restart it leaves rewritten" \
		"^$CODE_RE@feedback\.example\.nl$" "$(e2e_sink_mail_from "$f")"
}

# (f) a real Sendmail bounce: the coded message is refused by bad.example's
# server and Sendmail sends its DSN to the coded sender. Sendmail's own
# bounces do not pass its milters, so the mailertable routes the feedback
# domain back into the daemon over SMTP (relay mailer with F=k, as the
# README's Sendmail section says); there the milter records the DSN as a
# bounce of its send and discards it
case_f() {
	local reply code row qid
	reply=$(sm_send case-f alice@example.nl nobody@bad.example)
	expect_match "(f) Sendmail accepted the message" '^250 [0-9A-Za-z]+$' "$reply"
	code=$(sed -n "s/^feedback-milter: ${reply#250 }: rewrite code=\([0-9a-z]*\) .*/\1/p" "$E2E_DIR/milter.log")
	expect_match "(f) the message was rewritten" "^$CODE_RE$" "$code"
	[[ -n $code ]] || return 0
	# shellcheck disable=SC2317 # called by e2e_wait_until
	bounce_recorded() { [[ -n $(e2e_sql "SELECT id FROM events WHERE code = '$code'") ]]; }
	check "(f) Sendmail's own DSN came back in through the milter and was recorded" \
		e2e_wait_until "$E2E_TIMEOUT" "the DSN for $code" bounce_recorded
	# smtp-sink -f answers "500 5.3.0 Error: command failed": a mail system
	# error at the receiving side, which is a soft bounce (reason
	# systemerror), as in the corpus
	row=$(e2e_sql "SELECT e.class, e.reason, e.status, e.recipient, e.reporting_mta, e.client_addr, s.sender FROM events e JOIN sends s ON s.id = e.send_id WHERE e.code = '$code'")
	expect_eq "(f) recorded: class, reason, status, recipient and reporting MTA from Sendmail's DSN, linked to its send" \
		"soft|systemerror|5.3.0|nobody@bad.example|mta.e2e.test|127.0.0.1|alice@example.nl" "$row"
	qid=$(e2e_sql "SELECT queue_id FROM events WHERE code = '$code'")
	expect_match "(f) the milter logged the bounce, with the original Message-ID and the remote's reply" \
		"^feedback-milter: $qid: bounce code=$code class=soft reason=systemerror status=5\.3\.0 rcpt=<nobody@bad\.example> sender=<alice@example\.nl> msgid=<case-f@e2e\.test> .*diag=\"500 5\.3\.0 Error: command failed\"$" \
		"$(grep "^feedback-milter: $qid: bounce " "$E2E_DIR/milter.log")"
	check "(f) the DSN was discarded: nothing for the coded address at the sink" \
		test -z "$(grep -rl "^X-Rcpt-Args: <$code@feedback\.example\.nl>" "$E2E_DIR/sink" 2>/dev/null)"
}

# (g) STARTTLS: Sendmail sends the milter a second HELO on the same
# connection, after the handshake. Mail sent over TLS is still rewritten,
# and a report sent over TLS from the null sender is recorded with the HELO
# given after STARTTLS, which SPF then checks
case_g() {
	local reply good qid
	reply=$(sm_tls_send case-g alice@example.nl rcpt-g@remote.example)
	expect_match "(g) a message sent after STARTTLS is accepted" '^250 [0-9A-Za-z]+$' "$reply"
	if sink_coded "(g)" case-g; then
		expect_eq "(g) decode: the recipient" "rcpt-g@remote.example" "$(jget recipients "$SINK_JSON")"
		expect_eq "(g) decode: Sendmail's queue id" "${reply#250 }" "$(jget queue_id "$SINK_JSON")"
		expect_eq "(g) decode: the Message-ID" "<case-g@e2e.test>" "$(jget msgid "$SINK_JSON")"
	fi
	good=$(e2e_sink_mail_from "$(e2e_sink_file case-a)")
	reply=$(sm_tls_send case-g2 "" "$good")
	expect_match "(g) a report sent after STARTTLS is accepted" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	expect_eq "(g) its event has the HELO given after STARTTLS, which SPF checked" \
		"post-tls.e2e.test|post-tls.e2e.test|${good%@*}" \
		"$(e2e_sql "SELECT e.helo, e.spf_domain, s.code FROM events e JOIN sends s ON s.id = e.send_id WHERE e.queue_id = '$qid'")"
}

# (h) local submission: sendmail -t with submit.cf relays to the daemon
# over SMTP from 127.0.0.1, a trusted client, so the message is recorded and
# leaves rewritten like any other
case_h() {
	local qid
	check "(h) sendmail -t (the submission program) took the message" \
		sm_submit case-h henk@example.nl rcpt-h@remote.example
	sink_coded "(h)" case-h || return 0
	expect_eq "(h) decode: the sender given with -f" "henk@example.nl" "$(jget sender "$SINK_JSON")"
	expect_eq "(h) decode: the recipient" "rcpt-h@remote.example" "$(jget recipients "$SINK_JSON")"
	expect_eq "(h) decode: the Message-ID" "<case-h@e2e.test>" "$(jget msgid "$SINK_JSON")"
	qid=$(jget queue_id "$SINK_JSON")
	check "(h) the milter logged the rewrite with the daemon's queue id" \
		grep -q "^feedback-milter: $qid: rewrite code=${SINK_FROM%@*} " "$E2E_DIR/milter.log"
}

# (z) no sanitizer report
case_z() {
	e2e_milter_stop
	if e2e_milter_log_clean; then
		pass "(z) no sanitizer report in the milter log"
	else
		fail "(z) no sanitizer report in the milter log" \
			"$(grep -E -m 5 'Sanitizer|runtime error:' "$E2E_DIR/milter.log")"
	fi
}

# --------------------------------------------------------------------------

on_exit() {
	sm_stop
	checks_on_exit "$1"
}

main() {
	checks_begin on_exit openssl
	local dead_dns_port
	read -r SM_PORT E2E_SINK_PORT dead_dns_port < <(e2e_free_ports 3)
	E2E_MILTER_SOCK=$E2E_DIR/run/feedback-milter.sock
	sm_unpack
	e2e_sink_start --dump
	bad_sink_start
	# TrustedClients left at its default (loopback), as the README's
	# Sendmail section has it; no DNS server listens on the Nameservers port
	e2e_milter_config "SenderDomain example.nl" \
		"Nameservers 127.0.0.1@$dead_dns_port"
	e2e_milter_start
	sm_config
	sm_submit_config
	sm_start
	echo "# work directory $E2E_DIR; Sendmail $(dpkg-deb -f "$E2E_DIR"/sendmail-debs/sendmail-bin_*.deb Version)" \
		"on 127.0.0.1:$SM_PORT, sink on 127.0.0.1:$E2E_SINK_PORT"

	run_case "(a) outbound rewrite" case_a
	run_case "(b) two messages in one session" case_b
	run_case "(c) other domain" case_c
	run_case "(d) codes checked at RCPT" case_d
	run_case "(e) milter stopped" case_e
	run_case "(f) a Sendmail bounce" case_f
	run_case "(g) STARTTLS" case_g
	run_case "(h) local submission" case_h
	run_case "(z) clean shutdown" case_z

	summary
	(($(count FAIL) == 0))
}

main "$@"
