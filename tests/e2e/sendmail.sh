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

CODE_RE='[0-9a-hjkmnp-tv-z]{18}'
RESULTS=""
SUMMARY_DONE=0
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

# sm_config - sendmail.cf from an m4 file: loopback only, no DNS (host names
# from a hosts file of its own), every recipient relayed to the sink but
# bad.example's, and the milter as feedback-milter(8) shows it
sm_config() {
	local cf=$SM_ROOT/usr/share/sendmail/cf
	SM_DIR=$E2E_DIR/sendmail
	mkdir -p "$SM_DIR/queue"
	chmod 0700 "$SM_DIR/queue"
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
		define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
		define(\`ESMTP_MAILER_ARGS', \`TCP \$h $E2E_SINK_PORT')dnl
		define(\`RELAY_MAILER_ARGS', \`TCP \$h $E2E_SINK_PORT')dnl
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
	# recipient: Sendmail then bounces to the coded sender
	printf 'bad.example\tesmtp:[127.0.0.2]\n' |
		"$SM_ROOT/usr/libexec/sendmail/makemap" -C "$SM_DIR/sendmail.cf" -s hash \
			"$SM_DIR/mailertable" 2>>"$SM_DIR/makemap.log" ||
		e2e_die "makemap could not build the mailertable: $(tail -n 3 "$SM_DIR/makemap.log")"
	chmod 0600 "$SM_DIR/mailertable.db"
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

# --------------------------------------------------------------------------
# Cases

# (a) a message from the sender domain leaves with a coded MAIL FROM that
# decodes to its send record, with Sendmail's queue id
case_a() {
	local reply qid f from code json
	reply=$(sm_send case-a alice@example.nl rcpt-a@remote.example)
	expect_match "(a) Sendmail accepted the message" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	f=$(sink_file "(a)" case-a)
	[[ -n $f ]] || return 0
	from=$(e2e_sink_mail_from "$f")
	expect_match "(a) MAIL FROM at the sink is a feedback address" \
		"^$CODE_RE@feedback\.example\.nl$" "$from"
	code=${from%@*}
	json=$(decode_json "(a)" "$from")
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
# server, Sendmail sends its DSN to the coded sender (it reaches the sink:
# Sendmail's own bounces do not pass its milters), and that DSN, sent back
# in over SMTP as the remote side would, is recorded as a bounce of its
# send
case_f() {
	local reply f code dsn qid row
	reply=$(sm_send case-f alice@example.nl nobody@bad.example)
	expect_match "(f) Sendmail accepted the message" '^250 [0-9A-Za-z]+$' "$reply"
	code=$(sed -n "s/^feedback-milter: ${reply#250 }: rewrite code=\([0-9a-z]*\) .*/\1/p" "$E2E_DIR/milter.log")
	expect_match "(f) the message was rewritten" "^$CODE_RE$" "$code"
	[[ -n $code ]] || return 0
	dsn_file() { grep -rl "^X-Rcpt-Args: <$code@feedback\.example\.nl>" "$E2E_DIR/sink" 2>/dev/null | head -n 1; }
	# shellcheck disable=SC2317 # called by e2e_wait_until
	dsn_arrived() { [[ -n $(dsn_file) ]]; }
	check "(f) Sendmail's DSN to the coded sender reached the sink" \
		e2e_wait_until "$E2E_TIMEOUT" "the DSN for $code" dsn_arrived
	f=$(dsn_file)
	[[ -n $f ]] || return 0
	expect_eq "(f) the DSN came from the null sender" "" "$(e2e_sink_mail_from "$f")"
	expect_match "(f) it is a multipart/report" 'multipart/report' "$(e2e_sink_header "$f" Content-Type)"
	dsn=$E2E_DIR/state/case-f.dsn
	# the message as it was sent: without the sink's X- lines before it,
	# with CRLF line ends (Sendmail refuses a bare LF in DATA)
	awk 'h == 0 && /^X-(Client|Helo|Mail|Rcpt)-[A-Za-z]+: / { next }
		{ h = 1; sub(/\r$/, ""); printf "%s\r\n", $0 }' "$f" >"$dsn"
	reply=$(E2E_SMTP_PORT=$SM_PORT e2e_smtp_raw "" "$code@feedback.example.nl" "$dsn" mx.bad.example)
	expect_match "(f) the DSN sent back in is accepted" '^250 [0-9A-Za-z]+$' "$reply"
	qid=${reply#250 }
	# smtp-sink -f answers "500 5.3.0 Error: command failed": a mail system
	# error at the receiving side, which is a soft bounce (reason
	# systemerror), as in the corpus
	row=$(e2e_sql "SELECT e.class, e.reason, e.status, e.recipient, s.code, s.sender FROM events e JOIN sends s ON s.id = e.send_id WHERE e.queue_id = '$qid'")
	expect_eq "(f) recorded: class, reason, status and recipient from Sendmail's DSN, linked to its send" \
		"soft|systemerror|5.3.0|nobody@bad.example|$code|alice@example.nl" "$row"
	expect_match "(f) the milter logged the bounce, with the original Message-ID and the remote's reply" \
		"^feedback-milter: $qid: bounce code=$code class=soft reason=systemerror status=5\.3\.0 rcpt=<nobody@bad\.example> sender=<alice@example\.nl> msgid=<case-f@e2e\.test> .*diag=\"500 5\.3\.0 Error: command failed\"$" \
		"$(grep "^feedback-milter: $qid: bounce " "$E2E_DIR/milter.log")"
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
	exec 3>&1
	e2e_ensure_packages
	e2e_require_binaries
	e2e_init
	RESULTS=$E2E_DIR/results
	: >"$RESULTS"
	E2E_EXIT_HOOK=on_exit
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
	sm_start
	echo "# work directory $E2E_DIR; Sendmail $(dpkg-deb -f "$E2E_DIR"/sendmail-debs/sendmail-bin_*.deb Version)" \
		"on 127.0.0.1:$SM_PORT, sink on 127.0.0.1:$E2E_SINK_PORT"

	run_case "(a) outbound rewrite" case_a
	run_case "(b) two messages in one session" case_b
	run_case "(c) other domain" case_c
	run_case "(d) codes checked at RCPT" case_d
	run_case "(e) milter stopped" case_e
	run_case "(f) a Sendmail bounce" case_f
	run_case "(z) clean shutdown" case_z

	summary
	(($(count FAIL) == 0))
}

main "$@"
