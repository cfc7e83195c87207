#!/bin/bash
#
# tests/e2e/dns.sh - end-to-end tests of "feedbackctl dns advise|check" and
# "feedbackctl dkim keygen" against real DNS servers on loopback.
#
#   authoritative NSD (127.0.0.1@AUTH)  the test zones, tests/dns/zones/check-*.zone,
#                                       with DKIM keys made at run time
#   "recursive" NSD (127.0.0.1@REC)     the same zones, but an older copy of
#                                       check-stale.example; it is what
#                                       Nameservers names
#   DNS proxy (127.0.0.1@PROXY)         forwards to REC, and answers a CNAME
#                                       query for feedback.check-mixed.example
#                                       itself: NSD refuses to serve a CNAME
#                                       beside other records
#
# The NS records of every zone point at 127.0.0.1; the check finds the
# authoritative server through them and asks it on port AUTH
# (--auth-port). Each case runs "feedbackctl -c CONF dns check DOMAIN" and
# asserts the status of its rows and the exit status.
#
# Run as root from anywhere: tests/e2e/dns.sh
# Prints one line per check and closes with "N passed, M failed"; exits
# non-zero if any check failed. Needs nsd (installed by dnsserver.sh when
# missing), python3 and openssl; no Postfix.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

ZONES=$E2E_TOP/tests/dns/zones
DNSSERVER=$E2E_TOP/tests/dns/dnsserver.sh
W=""		# work directory
CONF=""		# the configuration: Nameservers is the "recursive" NSD
AUTH_PORT=""
REC_PORT=""
PROXY_PORT=""
PROXY_PID=""

# --------------------------------------------------------------------------
# Checks. Each records PASS or FAIL in $RESULTS; a failed check returns 1,
# which ends the current case.

# --------------------------------------------------------------------------
# Servers and cleanup

# stop_all - the proxy and both name servers, each by its PID
stop_all() {
	local d pid
	if [[ -n $PROXY_PID ]]; then
		e2e_stop_pid "$PROXY_PID" "DNS proxy" 5
		PROXY_PID=""
	fi
	for d in "$W/nsd-auth" "$W/nsd-rec"; do
		[[ -d $d ]] || continue
		pid=$(cat "$d/started.pid" 2>/dev/null || true)
		bash "$DNSSERVER" stop "$d" >>"$W/dns.log" 2>&1 || true
		e2e_stop_pid "$pid" nsd 10
	done
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if [[ -n $RESULTS && -f $RESULTS ]] && ((SUMMARY_DONE == 0)); then
		echo "not ok - setup or teardown failed (exit $rc)" >&3
		record FAIL setup
		summary
		((rc != 0)) || rc=1
	fi
	[[ -n $W && -d $W ]] || exit "$rc"
	stop_all
	if ((rc != 0)); then
		for f in "$W/dns.log" "$W/proxy.log" "$W"/nsd-*/nsd.log; do
			[[ -s $f ]] || continue
			printf '\n----- %s (last 30 lines) -----\n' "$f" >&2
			tail -n 30 "$f" >&2
		done
		e2e_note "failed (exit $rc); work directory kept: $W"
	elif [[ $E2E_KEEP == 1 ]]; then
		e2e_note "work directory kept: $W"
	else
		rm -rf "$W"
	fi
	exit "$rc"
}

# nsd_start DIR ZONEDIR - start NSD on a free port serving every zone file
# in ZONEDIR; prints the port
nsd_start() {
	local dir=$1 zdir=$2 port try rc zones=()
	mapfile -t zones < <(ls "$zdir"/*.zone)
	for try in 1 2 3 4 5; do
		read -r port < <(e2e_free_ports 1)
		rc=0
		bash "$DNSSERVER" start "$dir" "$port" "${zones[@]}" >>"$W/dns.log" 2>&1 || rc=$?
		if ((rc == 0)); then
			tr -dc '0-9' <"$dir/nsd.pid" >"$dir/started.pid"
			echo "$port"
			return 0
		fi
		((rc == 2)) || break
	done
	tail -n 20 "$W/dns.log" >&2
	e2e_die "NSD did not start from $dir"
}

# proxy_start - the DNS proxy in front of the "recursive" NSD
proxy_start() {
	read -r PROXY_PORT < <(e2e_free_ports 1)
	python3 - "$PROXY_PORT" "$REC_PORT" feedback.check-mixed.example \
		fb.check-host.example >>"$W/proxy.log" 2>&1 <<-'PY' &
		import socket, struct, sys
		port, upstream = int(sys.argv[1]), int(sys.argv[2])
		name, target = sys.argv[3].lower(), sys.argv[4]
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind(("127.0.0.1", port))
		def question(pkt):
		    i, labels = 12, []
		    while pkt[i]:
		        labels.append(pkt[i + 1:i + 1 + pkt[i]].decode("ascii", "replace"))
		        i += 1 + pkt[i]
		    return ".".join(labels).lower(), struct.unpack(">H", pkt[i + 1:i + 3])[0], i + 5
		def wire(n):
		    return b"".join(bytes([len(x)]) + x.encode() for x in n.split(".")) + b"\0"
		while True:
		    pkt, peer = s.recvfrom(4096)
		    try:
		        qname, qtype, end = question(pkt)
		    except (IndexError, struct.error):
		        continue
		    if qname == name and qtype == 5:
		        qid, flags = struct.unpack(">HH", pkt[:4])
		        rdata = wire(target)
		        s.sendto(struct.pack(">HHHHHH", qid, 0x8400 | (flags & 0x0100), 1, 1, 0, 0)
		                 + pkt[12:end] + b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 300, len(rdata))
		                 + rdata, peer)
		        continue
		    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    u.settimeout(3)
		    try:
		        u.sendto(pkt, ("127.0.0.1", upstream))
		        s.sendto(u.recv(65535), peer)
		    except OSError:
		        pass
		    finally:
		        u.close()
	PY
	PROXY_PID=$!
	e2e_wait_until "$E2E_TIMEOUT" "the DNS proxy on port $PROXY_PORT" \
		bash -c "ss -Hlnu 'sport = :$PROXY_PORT' | grep -q ."
}

# --------------------------------------------------------------------------
# Configuration, keys and zones

DOMAINS=(ok cname mixed partial mxcname none spf spf2 spfwarn dkim dkimweak
	dkimtiny dkimdeleg strict pnone stale fresh)

# write_conf FILE [NAMESERVERS [TIMEOUT [DKIMKEYFILE]]]
write_conf() {
	local d
	{
		for d in "${DOMAINS[@]}"; do
			echo "SenderDomain check-$d.example"
		done
		echo "KeyFile $W/keys"
		echo "MXHost mx1.check-host.example mx2.check-host.example"
		echo "CnameTarget fb.check-host.example"
		echo "OutboundAddresses 192.0.2.25 2001:db8::25"
		echo "DkimSelector fm"
		echo "DkimKeyFile ${4:-$W/dkim.pem}"
		echo "DmarcReport dmarc@check-host.example"
		[[ -z ${2:-} ]] || echo "Nameservers $2"
		echo "DnsTimeout ${3:-3s}"
	} >"$1"
}

# dkim_rr OWNER PEMFILE - a DKIM key record, the key split over two strings
dkim_rr() {
	local p
	p=$(openssl pkey -in "$2" -pubout -outform DER 2>/dev/null | base64 -w0)
	[[ -n $p ]] || e2e_die "no public key in $2"
	printf '%s\tTXT\t( "v=DKIM1; k=rsa; p=%s"\n\t\t"%s" )\n' "$1" "${p:0:150}" "${p:150}"
}

# make_zones - $W/auth: the zones with their DKIM keys and the advised
# check-fresh.example; $W/rec: the same with an old check-stale.example
make_zones() {
	local f name key
	mkdir -p "$W/auth" "$W/rec"
	for f in "$ZONES"/check-*.zone; do
		name=$(basename "$f" .zone)
		cp "$f" "$W/auth/"
		case $name in
		check-none.example | check-dkimdeleg.example) key="" ;;
		check-dkim.example) key=$W/other.pem ;;
		check-dkimweak.example) key=$W/weak.pem ;;
		check-dkimtiny.example) key=$W/tiny.pem ;;
		check-host.example) dkim_rr fm.keys "$W/dkim.pem" >>"$W/auth/$name.zone"; key="" ;;
		*) key=$W/dkim.pem ;;
		esac
		[[ -z $key ]] || dkim_rr fm._domainkey "$key" >>"$W/auth/$name.zone"
	done
	cp "$W/fresh.zone" "$W/auth/check-fresh.example.zone"
	cp "$W"/auth/*.zone "$W/rec/"
	sed -i 's/rua=mailto:dmarc@check-host.example/rua=mailto:old@check-host.example/' \
		"$W/rec/check-stale.example.zone"
	cmp -s "$W/auth/check-stale.example.zone" "$W/rec/check-stale.example.zone" &&
		e2e_die "the stale copy does not differ"
	return 0
}

# --------------------------------------------------------------------------
# Helpers of the cases

# run_check DOMAIN [CONF] - dns check; output in $W/out/DOMAIN.{txt,err};
# prints the exit status
run_check() {
	local rc=0
	"$FEEDBACKCTL" -c "${2:-$CONF}" dns check --auth-port "$AUTH_PORT" "$1" \
		>"$W/out/$1.txt" 2>"$W/out/$1.err" || rc=$?
	echo "$rc"
}

# row DOMAIN RECORD NAME - the output line of that row
row() { awk -v r="$2" -v n="$3" '$2 == r && $3 == n { print; exit }' "$W/out/$1.txt"; }

# expect_row CASE DOMAIN STATUS RECORD NAME [ERE] - the row's status, and
# that its line matches ERE
expect_row() {
	local line
	line=$(row "$2" "$4" "$5")
	expect_eq "$1: $4 $5 is $3" "$3" "${line%% *}" || {
		echo "#   output: $(tr '\n' '|' <"$W/out/$2.txt")" >&3
		return 1
	}
	[[ -z ${6:-} ]] || expect_match "$1: $4 $5 says why" "$6" "$line"
}

# expect_exit CASE DOMAIN WANT GOT
expect_exit() {
	expect_eq "$1: exit status $3" "$3" "$4" || {
		echo "#   output: $(tr '\n' '|' <"$W/out/$2.txt") stderr: $(cat "$W/out/$2.err")" >&3
		return 1
	}
}

# all_ok_but CASE DOMAIN RECORD... - every row is ok except those records
all_ok_but() {
	local case=$1 dom=$2 bad
	shift 2
	bad=$(awk -v skip=" $* " '/^(ok|warn|fail) / && $1 != "ok" && index(skip, " " $2 " ") == 0' \
		"$W/out/$dom.txt")
	expect_eq "$case: every other row is ok" "" "$bad"
}

# --------------------------------------------------------------------------
# Cases

case_keygen() {
	local rc=0 out sum
	out=$("$FEEDBACKCTL" -c "$CONF" dkim keygen check-ok.example 2>"$W/keygen.err") || rc=$?
	expect_eq "keygen: exit status 0" 0 "$rc"
	expect_eq "keygen: the private key is mode 0600" 600 "$(stat -c %a "$W/dkim.pem")"
	expect_match "keygen: a 2048-bit RSA key" '2048 bit' \
		"$(openssl pkey -in "$W/dkim.pem" -noout -text 2>/dev/null | head -n 1)"
	expect_match "keygen: prints the key record, split in strings" \
		'^fm\._domainkey\.check-ok\.example\.	3600	IN	TXT	\( "v=DKIM1; k=rsa; p=MII' \
		"$(grep -v '^;' <<<"$out" | head -n 1)"
	sum=$(md5sum <"$W/dkim.pem")
	rc=0
	"$FEEDBACKCTL" -c "$CONF" dkim keygen check-ok.example >/dev/null 2>"$W/keygen2.err" || rc=$?
	expect_eq "keygen: refuses to overwrite (exit 73)" 73 "$rc"
	expect_match "keygen: ... and says so" 'refusing to overwrite' "$(cat "$W/keygen2.err")"
	expect_eq "keygen: the key is unchanged" "$sum" "$(md5sum <"$W/dkim.pem")"
}

case_advise() {
	local rc=0
	"$FEEDBACKCTL" -c "$CONF" dns advise check-fresh.example >"$W/advice.txt" 2>"$W/advice.err" || rc=$?
	expect_eq "advise: exit status 0" 0 "$rc"
	expect_eq "advise: each record has a comment line before it" "" \
		"$(awk '!/^;/ && !/^\t/ && prev !~ /^;/ { print } { prev = $0 }' "$W/advice.txt")"
	expect_match "advise: MX to the first MX host" \
		$'\nfeedback\\.check-fresh\\.example\\.\t3600\tIN\tMX\t10 mx1\\.check-host\\.example\\.\n' \
		$'\n'"$(cat "$W/advice.txt")"$'\n'
	{
		printf '$ORIGIN check-fresh.example.\n$TTL 300\n'
		printf '@ SOA ns.check-fresh.example. hostmaster.check-fresh.example. 1 3600 600 86400 300\n'
		printf '@ NS ns.check-fresh.example.\nns A 127.0.0.1\n'
		cat "$W/advice.txt"
	} >"$W/fresh.zone"
}

case_ok() {
	local d=check-ok.example rc
	rc=$(run_check $d)
	expect_exit "ok" $d 0 "$rc"
	expect_row "ok" $d ok MX feedback.$d '10 mx1\.check-host\.example, 20 mx2'
	expect_row "ok" $d ok SPF feedback.$d
	expect_row "ok" $d ok SPF $d 'include:_spf'
	expect_row "ok" $d ok DKIM fm._domainkey.$d 'ttl=(29[89]|300) "v=DKIM1; k=rsa; p=MII'
	expect_row "ok" $d ok DMARC _dmarc.$d
	expect_row "ok" $d ok cache $d 'answers compared with 1 authoritative server'
	all_ok_but "ok" $d
}

# simple_case NAME DOMAIN EXIT STATUS RECORD OWNER ERE [CONF] - one row and
# the exit status
simple_case() {
	local rc
	rc=$(run_check "$2" "${8:-}")
	expect_row "$1" "$2" "$4" "$5" "$6" "$7"
	expect_exit "$1" "$2" "$3" "$rc"
}

case_cname() {
	simple_case "cname" check-cname.example 0 ok CNAME feedback.check-cname.example \
		'"fb\.check-host\.example" -- CNAME to the configured target'
	expect_row "cname" check-cname.example ok SPF feedback.check-cname.example
}

case_mixed() {
	local d=check-mixed.example rc
	rc=$(run_check $d "$W/conf-mixed")
	expect_row "mixed" $d fail CNAME feedback.$d 'sits beside other records \(MX, TXT\)'
	expect_exit "mixed" $d 2 "$rc"
}

case_partial() {
	simple_case "partial" check-partial.example 1 warn MX feedback.check-partial.example \
		'only some of the configured MX hosts are listed: add mx2\.check-host\.example'
	all_ok_but "partial" check-partial.example MX
}

case_mxcname() {
	simple_case "mxcname" check-mxcname.example 2 fail MX feedback.check-mxcname.example \
		'MX target mxalias\.check-host\.example is a CNAME'
}

case_none() {
	local d=check-none.example rc
	rc=$(run_check $d)
	expect_row "none" $d fail MX feedback.$d 'no MX record'
	expect_row "none" $d fail SPF feedback.$d 'no SPF record'
	expect_row "none" $d fail SPF $d 'no SPF record'
	expect_row "none" $d fail DKIM fm._domainkey.$d 'no DKIM key record'
	expect_row "none" $d warn DMARC _dmarc.$d 'no DMARC record'
	expect_exit "none" $d 2 "$rc"
}

case_spf() {
	local d=check-spf.example rc
	rc=$(run_check $d)
	expect_row "spf" $d fail SPF feedback.$d '11 DNS-querying terms'
	expect_row "spf" $d fail SPF $d 'outbound address 192\.0\.2\.25 gets softfail.*2001:db8::25 gets softfail'
	expect_exit "spf" $d 2 "$rc"
}

case_spf2() {
	local d=check-spf2.example rc
	rc=$(run_check $d)
	expect_row "spf2" $d fail SPF feedback.$d '3 void lookups \(gone1\.check-spf2\.example'
	expect_row "spf2" $d fail SPF $d '2 SPF records'
	expect_exit "spf2" $d 2 "$rc"
}

case_spfwarn() {
	simple_case "spfwarn" check-spfwarn.example 1 warn SPF feedback.check-spfwarn.example \
		'1 void lookup \(gone\.check-spfwarn\.example\)'
	all_ok_but "spfwarn" check-spfwarn.example SPF
}

case_dkim() {
	simple_case "dkim mismatch" check-dkim.example 2 fail DKIM fm._domainkey.check-dkim.example \
		'not the public key of the key we sign with'
	simple_case "dkim 1024" check-dkimweak.example 1 warn DKIM fm._domainkey.check-dkimweak.example \
		'"v=DKIM1; k=rsa; p=MIGfMA0.*\.\.\. \([0-9]+ octets\)" -- 1024-bit key: use 2048 bits$' "$W/conf-weak"
	all_ok_but "dkim 1024" check-dkimweak.example DKIM
	simple_case "dkim 512" check-dkimtiny.example 2 fail DKIM fm._domainkey.check-dkimtiny.example \
		' -- 512-bit key: verifiers reject' "$W/conf-tiny"
	simple_case "dkim delegated" check-dkimdeleg.example 0 ok DKIM fm._domainkey.check-dkimdeleg.example \
		'delegated by CNAME to fm\.keys\.check-host\.example'
}

case_dmarc() {
	simple_case "strict" check-strict.example 2 fail DMARC _dmarc.check-strict.example \
		'aspf=s \(strict SPF alignment\) fails for every message: MAIL FROM is at feedback\.check-strict\.example, not check-strict\.example'
	simple_case "p=none" check-pnone.example 1 warn DMARC _dmarc.check-pnone.example \
		'p=none only monitors'
	all_ok_but "p=none" check-pnone.example DMARC
}

case_stale() {
	local d=check-stale.example
	simple_case "stale" $d 1 warn cache _dmarc.$d \
		'resolver: v=DMARC1; p=reject; rua=mailto:old@check-host\.example; ns\.check-stale\.example \(127\.0\.0\.1\): v=DMARC1; p=reject; rua=mailto:dmarc@.*not visible everywhere yet; resolvers may keep the old answer for up to 300 s'
	all_ok_but "stale" $d cache
	expect_eq "stale: --json has the same row" \
		"warn TXT: resolver: v=DMARC1; p=reject; rua=mailto:old@check-host.example; ns.check-stale.example (127.0.0.1): v=DMARC1; p=reject; rua=mailto:dmarc@check-host.example" \
		"$("$FEEDBACKCTL" -c "$CONF" dns check --json --auth-port "$AUTH_PORT" $d |
			python3 -c 'import json, sys
for r in map(json.loads, sys.stdin):
    if r["record"] == "cache" and r["name"] == "_dmarc.check-stale.example":
        print(r["status"], r["value"])' || true)"
}

# the advice, loaded into both servers: all ok (p=none with a report
# address, the advised start, is advice on an ok row)
case_fresh() {
	local d=check-fresh.example rc
	rc=$(run_check $d)
	expect_row "fresh" $d ok MX feedback.$d
	expect_row "fresh" $d ok SPF feedback.$d
	expect_row "fresh" $d ok SPF $d
	expect_row "fresh" $d ok DKIM fm._domainkey.$d
	expect_row "fresh" $d ok DMARC _dmarc.$d 'p=none only monitors'
	expect_row "fresh" $d ok cache $d
	all_ok_but "fresh" $d
	expect_exit "fresh" $d 0 "$rc"
}

case_json() {
	local rc=0 out
	out=$("$FEEDBACKCTL" -c "$CONF" dns check --json --auth-port "$AUTH_PORT" check-ok.example) || rc=$?
	expect_eq "json: exit status 0" 0 "$rc"
	# TTLs of 300 s; a name looked up twice in one run comes the second
	# time from the resolver's cache, a second or two older
	local t='(29[89]|300)'
	expect_match "json: one object per row, all ok" \
		"^MX:ok:$t SPF:ok:$t SPF:ok:$t DKIM:ok:$t DMARC:ok:$t cache:ok:None\$" \
		"$(python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
assert all(set(r) == {"record", "name", "status", "value", "ttl", "advice"} for r in rows)
print(" ".join("%s:%s:%s" % (r["record"], r["status"], r["ttl"]) for r in rows))' <<<"$out")"
}

case_terminal() {
	local out
	out=$(TERM=xterm script -qec "$FEEDBACKCTL -c $CONF dns check --auth-port $AUTH_PORT check-partial.example" /dev/null || true)
	expect_match "terminal: coloured ✔ for ok" $'\033\\[32m\xe2\x9c\x94 ok' "$out"
	expect_match "terminal: coloured ⚠ for warn" $'\033\\[33m\xe2\x9a\xa0 warn' "$out"
	out=$(TERM=xterm script -qec "$FEEDBACKCTL -c $CONF dns check --auth-port $AUTH_PORT check-none.example" /dev/null || true)
	expect_match "terminal: coloured ✘ for fail" $'\033\\[31m\xe2\x9c\x98 fail' "$out"
	expect_eq "piped: no escape sequences" "" "$(grep -c $'\033' "$W/out/check-ok.example.txt" | grep -v '^0$' || true)"
}

case_errors() {
	local rc=0 dead
	read -r dead < <(e2e_free_ports 1)
	write_conf "$W/conf-dead" "127.0.0.1@$dead" 1s
	"$FEEDBACKCTL" -c "$W/conf-dead" dns check check-ok.example >"$W/out/dead.txt" 2>"$W/out/dead.err" || rc=$?
	expect_eq "no DNS: exit status 3" 3 "$rc"
	expect_match "no DNS: says why" 'cannot query DNS for check-ok\.example' "$(cat "$W/out/dead.err")"
	expect_eq "no DNS: no rows" "" "$(cat "$W/out/dead.txt")"
	rc=0
	"$FEEDBACKCTL" -c "$CONF" dns check other.example >/dev/null 2>"$W/out/other.err" || rc=$?
	expect_eq "not a SenderDomain: exit status 3" 3 "$rc"
	expect_match "not a SenderDomain: says so" 'other\.example is not a SenderDomain' "$(cat "$W/out/other.err")"
	rc=0
	"$FEEDBACKCTL" -c "$CONF" dns frobnicate >/dev/null 2>&1 || rc=$?
	expect_eq "usage error: exit status 64" 64 "$rc"
}

# sanitizer builds: nothing reported on standard error
case_clean() {
	expect_eq "no sanitizer report from feedbackctl" "" \
		"$(grep -lE 'Sanitizer|runtime error:' "$W"/out/*.err "$W"/*.err 2>/dev/null || true)"
}

# --------------------------------------------------------------------------

main() {
	exec 3>&1
	[[ $(id -u) == 0 ]] || e2e_die "run as root (NSD is started on loopback)"
	command -v python3 >/dev/null && command -v openssl >/dev/null ||
		e2e_install python3 openssl
	[[ -x $FEEDBACKCTL ]] || e2e_die "$FEEDBACKCTL not built (autoreconf -fi && ./configure && make)"
	W=$(mktemp -d "${TMPDIR:-/tmp}/feedback-dns.XXXXXX")
	mkdir -p "$W/out"
	RESULTS=$W/results
	: >"$RESULTS"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	CONF=$W/conf
	write_conf "$CONF"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/other.pem" 2>/dev/null
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$W/weak.pem" 2>/dev/null
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 -out "$W/tiny.pem" 2>/dev/null

	run_case "dkim keygen" case_keygen
	run_case "dns advise" case_advise
	[[ -s $W/dkim.pem && -s $W/fresh.zone ]] || e2e_die "no key or advice to serve"
	make_zones
	AUTH_PORT=$(nsd_start "$W/nsd-auth" "$W/auth")
	REC_PORT=$(nsd_start "$W/nsd-rec" "$W/rec")
	proxy_start
	write_conf "$CONF" "127.0.0.1@$REC_PORT"
	write_conf "$W/conf-mixed" "127.0.0.1@$PROXY_PORT"
	write_conf "$W/conf-weak" "127.0.0.1@$REC_PORT" 3s "$W/weak.pem"
	write_conf "$W/conf-tiny" "127.0.0.1@$REC_PORT" 3s "$W/tiny.pem"
	echo "# work directory $W; authoritative NSD on 127.0.0.1@$AUTH_PORT, \"recursive\" NSD on @$REC_PORT, proxy on @$PROXY_PORT"

	run_case "all ok" case_ok
	run_case "CNAME alternative" case_cname
	run_case "CNAME beside other records" case_mixed
	run_case "some MX hosts" case_partial
	run_case "MX target is a CNAME" case_mxcname
	run_case "nothing published" case_none
	run_case "SPF: too many lookups, softfail" case_spf
	run_case "SPF: void lookups, two records" case_spf2
	run_case "SPF: one void lookup" case_spfwarn
	run_case "DKIM" case_dkim
	run_case "DMARC" case_dmarc
	run_case "authoritative/recursive mismatch" case_stale
	run_case "advice loaded into the server" case_fresh
	run_case "JSON" case_json
	run_case "terminal" case_terminal
	run_case "errors" case_errors
	run_case "sanitizers" case_clean

	summary
	(($(count FAIL) == 0))
}

main "$@"
