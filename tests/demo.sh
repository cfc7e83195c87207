#!/bin/bash
#
# tests/demo.sh - see feedback-milter at work, in one command (as root):
#
#   tests/demo.sh
#
# It installs what is missing (Postfix, swaks, sqlite3), builds the project if
# it is not built, starts a private Postfix on loopback with feedback-milter
# attached and smtp-sink standing in for the remote mail server, sends one
# message, shows the coded envelope sender that left and decodes it; then a
# second private Postfix, standing in for the remote mail server, refuses a
# recipient and the bounce that comes back is recorded. Nothing outside a
# temporary directory is configured or left running.
#
# The demo is a list of steps (DEMO_STEPS); each is a function that tells
# what it does and does it. Add a step by writing a function and appending it
# to the list.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e/lib.sh"

DEMO_SENDER=info@example.nl
DEMO_RCPT=customer@remote.example
DEMO_CAMPAIGN=newsletter-2024-06
DEMO_ADDRESS=""		# the coded envelope sender, set by step_send

say() { printf '\n== %s\n\n' "$*"; }
tell() { printf '   %s\n' "$@"; }
# show CMD... - print a command, then run it with its output indented
show() {
	printf '   $ %s\n' "$*"
	"$@" 2>&1 | sed 's/^/     /'
}

step_setup() {
	say "Setting up a private mail system"
	e2e_ensure_packages
	e2e_ensure_built
	e2e_init
	read -r E2E_SMTP_PORT E2E_SINK_PORT < <(e2e_free_ports 2)
	e2e_sink_start --dump
	e2e_postfix_setup
	e2e_milter_config \
		"SenderDomain example.nl" \
		"IdentityHeaders X-Campaign-ID"
	e2e_milter_start
	e2e_postfix_start
	tell "work directory:   $E2E_DIR" \
		"Postfix:          127.0.0.1:$E2E_SMTP_PORT (private instance, config in $E2E_PF)" \
		"feedback-milter:  $E2E_MILTER_SOCK (smtpd_milters and non_smtpd_milters)" \
		"remote side:      smtp-sink on 127.0.0.1:$E2E_SINK_PORT, keeping a copy of each message" \
		"" \
		"The milter's configuration:"
	grep -Ev '^(#|$)' "$E2E_MILTER_CONF" | sed 's/^/     /'
}

step_send() {
	local reply f
	say "Sending a newsletter from $DEMO_SENDER to $DEMO_RCPT"
	tell "A trusted client (127.0.0.1) hands Postfix a message with envelope" \
		"sender <$DEMO_SENDER> and an X-Campaign-ID header."
	reply=$(e2e_smtp_send --header "X-Campaign-ID: $DEMO_CAMPAIGN" demo-1 "$DEMO_SENDER" "$DEMO_RCPT")
	tell "Postfix answered: $reply"
	[[ $reply == 250\ * ]] || e2e_die "Postfix did not accept the message"
	f=$(e2e_sink_wait demo-1) || e2e_die "the message did not reach the sink"
	DEMO_ADDRESS=$(e2e_sink_mail_from "$f")
	tell "" "The remote server received:" \
		"  MAIL FROM:<$DEMO_ADDRESS>" \
		"  From: $(e2e_sink_header "$f" From)" \
		"" \
		"The header From is unchanged, but the envelope sender (the future" \
		"Return-Path, where bounces and auto-replies go) is now a one-off" \
		"address on feedback.example.nl. The milter logged:"
	grep -F "rewrite code=${DEMO_ADDRESS%@*}" "$E2E_DIR/milter.log" | sed 's/^/     /'
}

step_decode() {
	say "Decoding the address"
	tell "When a bounce comes back to $DEMO_ADDRESS, the code in its local" \
		"part leads to the send record: no state is needed to verify it, and the" \
		"store holds who sent what to whom."
	show "$FEEDBACKCTL" -c "$E2E_MILTER_CONF" decode "$DEMO_ADDRESS"
	tell "" "A forged code (one character changed) is refused:"
	local code=${DEMO_ADDRESS%@*} bad
	if [[ ${code: -1} == 0 ]]; then bad=${code%?}1; else bad=${code%?}0; fi
	show "$FEEDBACKCTL" -c "$E2E_MILTER_CONF" decode "$bad" || true
}

step_bounce() {
	local reply qid code bqid line
	say "A bounce comes back"
	tell "A second private Postfix now plays mx.remote.example, which does not" \
		"know unknown@remote.example: it refuses that recipient at RCPT. Our" \
		"Postfix then bounces the message itself, to the coded envelope sender." \
		"Postfix passes the bounces it makes to non_smtpd_milters only with" \
		"internal_mail_filter_classes = bounce; feedback.example.nl must be a" \
		"domain it accepts (relay_domains), so that codes reach the milter."
	read -r E2E_REMOTE_PORT < <(e2e_free_ports 1)
	e2e_remote_setup
	e2e_remote_map recipient_access unknown@remote.example "550 5.1.1 User unknown"
	e2e_remote_start
	printf 'unknown@remote.example\tsmtp:[127.0.0.1]:%s\n' "$E2E_REMOTE_PORT" >"$E2E_PF/transport"
	e2e_postconf "relay_domains = remote.example, feedback.example.nl" \
		"transport_maps = texthash:$E2E_PF/transport" \
		"internal_mail_filter_classes = bounce"
	e2e_postfix_reload || e2e_die "Postfix did not reload"
	reply=$(e2e_smtp_send demo-2 "$DEMO_SENDER" unknown@remote.example)
	[[ $reply == 250\ * ]] || e2e_die "Postfix did not accept the message: $reply"
	qid=${reply#250 }
	code=$(sed -n "s/^.* $qid: rewrite code=\([0-9a-z]*\) .*/\1/p" "$E2E_DIR/milter.log" | head -n 1)
	tell "" "Sent $DEMO_SENDER -> unknown@remote.example as <$code@feedback.example.nl>." \
		"Waiting for the bounce ..."
	e2e_wait_until "$E2E_TIMEOUT" "the bounce to be recorded" \
		grep -q ": bounce code=$code " "$E2E_DIR/milter.log" ||
		e2e_die "the bounce was not recorded"
	bqid=$(sed -n "s/^.* $qid: sender non-delivery notification: \([0-9A-Za-z]*\).*/\1/p" "$E2E_DIR/postfix.log")
	tell "" "Postfix logged:"
	grep -E " $qid: to=<unknown@remote.example>| $qid: sender non-delivery| ${bqid:-none}: milter-discard" \
		"$E2E_DIR/postfix.log" | sed 's/^/     /'
	line=$(grep ": bounce code=$code " "$E2E_DIR/milter.log")
	tell "" "The milter verified the code, parsed the DSN, recorded the event linked" \
		"to its send and discarded the bounce. Its event line:"
	printf '     %s\n' "$line"
	tell "" "The store, through feedbackctl:"
	show "$FEEDBACKCTL" -c "$E2E_MILTER_CONF" decode "$code"
	tell "" "and the event row:"
	e2e_sql "SELECT 'class=' || class, 'reason=' || reason, 'status=' || status,
		'recipient=' || recipient FROM events WHERE code = '$code'" | tr '|' ' ' | sed 's/^/     /'
}

step_done() {
	say "Done"
	tell "Stopping the milter, Postfix (both instances) and the sink and removing $E2E_DIR" \
		"(set E2E_KEEP=1 to keep it). The end-to-end tests: tests/e2e/outbound.sh" \
		"and tests/e2e/inbound.sh"
}

DEMO_STEPS=(step_setup step_send step_decode step_bounce step_done)

for step in "${DEMO_STEPS[@]}"; do
	"$step"
done
