# shellcheck shell=bash
#
# tests/e2e/lib.sh - helpers for the end-to-end tests, the demo and the
# benchmarks. Source it from a bash script that runs with `set -euo pipefail`
# as root.
#
# It builds a private, throw-away mail system in a work directory:
#
#   client ──SMTP──▶ private Postfix (127.0.0.1:E2E_SMTP_PORT) ──▶ smtp-sink
#                          │  smtpd_milters / non_smtpd_milters     (dumps each
#                          ▼                                         message)
#                    feedback-milter (unix socket in the work dir)
#
# The system's default Postfix instance is neither started nor changed: the
# private instance has its own config_directory, queue_directory and
# data_directory, and logs to a file in the work directory (maillog_file).
# Everything started is recorded by PID and stopped in an EXIT trap. On
# failure the work directory is kept and its logs are printed; on success it
# is removed (set E2E_KEEP=1 to keep it anyway).
#
# Environment:
#   FM_BUILD_DIR     build directory       (default: the source tree)
#   FEEDBACK_MILTER  path of the daemon    (default: $FM_BUILD_DIR/milter/feedback-milter)
#   FEEDBACKCTL      path of the CLI       (default: $FM_BUILD_DIR/milter/feedbackctl)
#   E2E_MILTER_USER  UserID for the milter (default: postfix; the milter
#                    refuses to run as root, and Postfix must reach its socket)
#   E2E_TIMEOUT      seconds to wait for anything to happen (default: 20)
#   E2E_KEEP         1: keep the work directory even on success

E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FM_BUILD_DIR=${FM_BUILD_DIR:-$E2E_TOP}
FEEDBACK_MILTER=${FEEDBACK_MILTER:-$FM_BUILD_DIR/milter/feedback-milter}
FEEDBACKCTL=${FEEDBACKCTL:-$FM_BUILD_DIR/milter/feedbackctl}
E2E_MILTER_USER=${E2E_MILTER_USER:-postfix}
E2E_TIMEOUT=${E2E_TIMEOUT:-20}
E2E_KEEP=${E2E_KEEP:-0}

# Set by the functions below.
E2E_DIR=""		# the work directory
E2E_PF=""		# the private Postfix config_directory
E2E_SMTP_PORT=""	# Postfix smtpd (with the milter)
E2E_BARE_PORT=""	# Postfix smtpd without milters (benchmarks)
E2E_SINK_PORT=""	# smtp-sink
E2E_MILTER_CONF=""
E2E_MILTER_SOCK=""
E2E_POSTFIX_RUNNING=0

# Packages the tests need at run time, and those needed to build the project.
E2E_PACKAGES=(postfix swaks sqlite3 iproute2 nsd)
E2E_BUILD_PACKAGES=(autoconf automake make gcc pkg-config libmilter-dev
	libspf2-dev libopendkim-dev libsqlite3-dev libssl-dev
	libgmime-3.0-dev libunbound-dev libcmocka-dev)

e2e_note() { printf 'e2e: %s\n' "$*" >&2; }
e2e_die() {
	printf 'e2e: error: %s\n' "$*" >&2
	exit 1
}

# e2e_now_ms - milliseconds since the epoch
e2e_now_ms() {
	local ns
	ns=$(date +%s%N)
	echo $((ns / 1000000))
}

# e2e_wait_until SECONDS WHAT CMD... - poll CMD every 0.1 s until it succeeds;
# on timeout say what was awaited and return 1.
e2e_wait_until() {
	local timeout=$1 what=$2 deadline
	shift 2
	deadline=$(($(e2e_now_ms) + timeout * 1000))
	until "$@"; do
		if (($(e2e_now_ms) >= deadline)); then
			e2e_note "timed out after ${timeout}s waiting for $what"
			return 1
		fi
		sleep 0.1
	done
}

# e2e_pid_alive PID - true while the process exists and is not a zombie
e2e_pid_alive() {
	local state
	[[ -n $1 && -r /proc/$1/stat ]] || return 1
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
	[[ -n $state && $state != Z ]]
}

e2e_pid_gone() { ! e2e_pid_alive "$1"; }

# PIDs of what we start are recorded in $E2E_DIR/pids/NAME, so that a
# process restarted inside a subshell is still found and stopped.
e2e_pid_save() { echo "$2" >"$E2E_DIR/pids/$1"; }
e2e_pid_read() { cat "$E2E_DIR/pids/$1" 2>/dev/null || true; }
e2e_pid_forget() { rm -f "$E2E_DIR/pids/$1"; }

# e2e_stop_pid PID NAME [TIMEOUT] - SIGTERM, wait for the exit, SIGKILL after
# TIMEOUT seconds (default 30). Reaps the process if it is our child.
e2e_stop_pid() {
	local pid=$1 name=$2 timeout=${3:-30}
	[[ -n $pid ]] || return 0
	if e2e_pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		if ! e2e_wait_until "$timeout" "$name (pid $pid) to exit" e2e_pid_gone "$pid"; then
			e2e_note "killing $name (pid $pid)"
			kill -KILL "$pid" 2>/dev/null || true
			e2e_wait_until 5 "$name (pid $pid) to die" e2e_pid_gone "$pid" || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
}

# --------------------------------------------------------------------------
# Packages and build

# e2e_missing_packages PKG... - print those not installed
e2e_missing_packages() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q ' ok installed$' || echo "$p"
	done
}

# e2e_install PKG... - install the missing ones with apt-get (postfix is
# preseeded so that its installation asks nothing and configures no default
# instance).
e2e_install() {
	local missing=()
	mapfile -t missing < <(e2e_missing_packages "$@")
	((${#missing[@]})) || return 0
	[[ $(id -u) == 0 ]] || e2e_die "run as root (missing packages: ${missing[*]})"
	e2e_note "installing ${missing[*]}"
	if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
		debconf-set-selections <<-'EOF'
			postfix postfix/main_mailer_type select No configuration
			postfix postfix/mailname string localhost
		EOF
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# e2e_ensure_packages - what the end-to-end tests need
e2e_ensure_packages() {
	local extra=()
	command -v python3 >/dev/null || extra+=(python3)
	e2e_install "${E2E_PACKAGES[@]}" "${extra[@]}"
	command -v smtp-sink >/dev/null || e2e_die "smtp-sink not found (package postfix)"
}

# e2e_ensure_built - build the daemon and the CLI in the source tree unless
# both exist already.
e2e_ensure_built() {
	if [[ -x $FEEDBACK_MILTER && -x $FEEDBACKCTL ]]; then
		return 0
	fi
	[[ -f $E2E_TOP/configure.ac ]] || e2e_die "no configure.ac in $E2E_TOP"
	if [[ -f $E2E_TOP/tests/install-deps.sh ]]; then
		bash "$E2E_TOP/tests/install-deps.sh" >&2
	else
		e2e_install "${E2E_BUILD_PACKAGES[@]}"
	fi
	e2e_note "building feedback-milter in $FM_BUILD_DIR"
	(
		cd "$FM_BUILD_DIR"
		[[ -x $E2E_TOP/configure ]] || (cd "$E2E_TOP" && autoreconf -fi)
		[[ -f Makefile ]] || "$E2E_TOP/configure" --quiet
		make -j"$(nproc)"
	) >"${TMPDIR:-/tmp}/feedback-milter-build.log" 2>&1 || {
		tail -n 40 "${TMPDIR:-/tmp}/feedback-milter-build.log" >&2
		e2e_die "build failed (log: ${TMPDIR:-/tmp}/feedback-milter-build.log)"
	}
	[[ -x $FEEDBACK_MILTER && -x $FEEDBACKCTL ]] ||
		e2e_die "build did not produce $FEEDBACK_MILTER and $FEEDBACKCTL"
}

# e2e_require_binaries - fail clearly when the project is not built
e2e_require_binaries() {
	[[ -x $FEEDBACK_MILTER ]] || e2e_die "$FEEDBACK_MILTER not built (autoreconf -fi && ./configure && make)"
	[[ -x $FEEDBACKCTL ]] || e2e_die "$FEEDBACKCTL not built (autoreconf -fi && ./configure && make)"
}

# --------------------------------------------------------------------------
# Work directory, cleanup

# e2e_init - create the work directory and install the cleanup trap
e2e_init() {
	[[ $(id -u) == 0 ]] || e2e_die "the end-to-end tests run as root (they start Postfix)"
	id postfix >/dev/null 2>&1 || e2e_die "no postfix user (is postfix installed?)"
	E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/feedback-e2e.XXXXXX")
	# Postfix daemons and the milter run as postfix: they must traverse it.
	chmod 0755 "$E2E_DIR"
	mkdir -p "$E2E_DIR"/{etc,queue,data,sink,run,db,pids,state}
	chown postfix:postfix "$E2E_DIR"/{data,sink,run,db}
	E2E_PF=$E2E_DIR/etc
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# e2e_show_logs - the tail of every log, for a failed run
e2e_show_logs() {
	local f
	for f in "$E2E_DIR"/milter.log "$E2E_DIR"/postfix.log "$E2E_DIR"/sink.log \
		"$E2E_DIR"/postfix-cmd.log; do
		[[ -s $f ]] || continue
		printf '\n----- %s (last 60 lines) -----\n' "$f" >&2
		tail -n 60 "$f" >&2
	done
}

# e2e_stop_all - stop the milter, Postfix and the sink (each by its PID)
e2e_stop_all() {
	e2e_milter_stop
	e2e_postfix_stop
	e2e_sink_stop
}

# E2E_EXIT_HOOK may name a function to run first, with the exit status (a
# test script prints its summary there when a setup step died).
E2E_EXIT_HOOK=""

e2e_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	[[ -n $E2E_EXIT_HOOK ]] && "$E2E_EXIT_HOOK" "$rc"
	[[ -n $E2E_DIR && -d $E2E_DIR ]] || exit "$rc"
	e2e_stop_all
	if ((rc != 0)); then
		e2e_show_logs
		e2e_note "failed (exit $rc); work directory kept: $E2E_DIR"
	elif [[ $E2E_KEEP == 1 ]]; then
		e2e_note "work directory kept: $E2E_DIR"
	else
		rm -rf "$E2E_DIR"
	fi
	exit "$rc"
}

# e2e_free_ports N - print N distinct free TCP ports on 127.0.0.1
e2e_free_ports() {
	python3 - "$1" <<-'PY'
		import socket, sys
		socks = []
		for _ in range(int(sys.argv[1])):
		    s = socket.socket()
		    s.bind(("127.0.0.1", 0))
		    socks.append(s)
		print(" ".join(str(s.getsockname()[1]) for s in socks))
	PY
}

# e2e_port_open PORT - something accepts connections on 127.0.0.1:PORT
e2e_port_open() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# --------------------------------------------------------------------------
# smtp-sink: the remote side

# e2e_sink_start --dump|--no-dump - start smtp-sink on E2E_SINK_PORT. With dumps
# every message lands in $E2E_DIR/sink/ as one file starting with
# X-Client-Addr, X-Mail-Args (the MAIL FROM arguments), X-Rcpt-Args...
e2e_sink_start() {
	local dump=(-d "$E2E_DIR/sink/%Y%m%d%H%M%S.")
	[[ $1 == --no-dump ]] && dump=()
	smtp-sink -u postfix -h sink.remote.example "${dump[@]}" \
		"127.0.0.1:$E2E_SINK_PORT" 1024 >>"$E2E_DIR/sink.log" 2>&1 &
	e2e_pid_save smtp-sink $!
	e2e_wait_until "$E2E_TIMEOUT" "smtp-sink on port $E2E_SINK_PORT" \
		e2e_port_open "$E2E_SINK_PORT"
}

e2e_sink_stop() {
	e2e_stop_pid "$(e2e_pid_read smtp-sink)" smtp-sink 10
	e2e_pid_forget smtp-sink
}

# e2e_sink_file TOKEN - the dump file of the message whose body ends with
# "END TOKEN" (written by e2e_smtp_send and e2e_message)
e2e_sink_file() {
	grep -rlx -- "END $1" "$E2E_DIR/sink" 2>/dev/null | head -n 1
}

e2e_sink_has() { [[ -n $(e2e_sink_file "$1") ]]; }

# e2e_sink_wait TOKEN - wait for that message at the sink, print its file
e2e_sink_wait() {
	e2e_wait_until "$E2E_TIMEOUT" "message $1 at the sink" e2e_sink_has "$1" || return 1
	e2e_sink_file "$1"
}

# e2e_sink_mail_from FILE - the MAIL FROM address (without brackets)
e2e_sink_mail_from() {
	sed -n 's/^X-Mail-Args: <\([^>]*\)>.*/\1/p' "$1" | head -n 1
}

# e2e_sink_rcpts FILE - the RCPT TO addresses, one a line
e2e_sink_rcpts() {
	sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$1"
}

# e2e_sink_header FILE NAME - the values of a message header (the message's
# own header section, after the sink's X-* lines), one a line
e2e_sink_header() {
	awk -v name="$2" '
		BEGIN { n = tolower(name) ":" }
		/^$/ { exit }
		{ if (tolower(substr($0, 1, length(n))) == n) { v = substr($0, length(n) + 1); sub(/^[ \t]+/, "", v); print v } }
	' "$1"
}

# --------------------------------------------------------------------------
# The private Postfix instance

# e2e_postfix_setup - write main.cf and master.cf. smtpd on E2E_SMTP_PORT
# uses the milter; if E2E_BARE_PORT is set, a second smtpd there uses none.
# No service is chrooted, so the milter socket path is an ordinary path.
e2e_postfix_setup() {
	local bare=""
	E2E_MILTER_SOCK=$E2E_DIR/run/feedback-milter.sock
	cat >"$E2E_PF/main.cf" <<-EOF
		# private instance for the feedback-milter end-to-end tests
		compatibility_level = 3.6
		queue_directory = $E2E_DIR/queue
		data_directory = $E2E_DIR/data
		maillog_file = $E2E_DIR/postfix.log
		maillog_file_prefixes = $E2E_DIR/
		myhostname = mx.e2e.test
		mydomain = e2e.test
		myorigin = \$myhostname
		mydestination =
		local_recipient_maps =
		alias_maps =
		alias_database =
		inet_interfaces = loopback-only
		inet_protocols = ipv4
		mynetworks = 127.0.0.0/8
		relay_domains = remote.example
		relayhost = [127.0.0.1]:$E2E_SINK_PORT
		smtpd_authorized_xclient_hosts = 127.0.0.0/8
		smtpd_tls_security_level = none
		smtp_tls_security_level = none
		biff = no
		append_dot_mydomain = no
		milter_default_action = tempfail
		smtpd_milters = { unix:$E2E_MILTER_SOCK, default_action=tempfail }
		non_smtpd_milters = { unix:$E2E_MILTER_SOCK, default_action=tempfail }
	EOF
	if [[ -n $E2E_BARE_PORT ]]; then
		bare="127.0.0.1:$E2E_BARE_PORT inet n - n - - smtpd -o smtpd_milters= -o syslog_name=postfix-bare"
	fi
	cat >"$E2E_PF/master.cf" <<-EOF
		# service type  private unpriv  chroot  wakeup  maxproc command
		127.0.0.1:$E2E_SMTP_PORT inet n - n - - smtpd
		$bare
		pickup    unix  n       -       n       60      1       pickup
		cleanup   unix  n       -       n       -       0       cleanup
		qmgr      unix  n       -       n       300     1       qmgr
		rewrite   unix  -       -       n       -       -       trivial-rewrite
		bounce    unix  -       -       n       -       0       bounce
		defer     unix  -       -       n       -       0       bounce
		trace     unix  -       -       n       -       0       bounce
		verify    unix  -       -       n       -       1       verify
		flush     unix  n       -       n       1000?   0       flush
		proxymap  unix  -       -       n       -       -       proxymap
		smtp      unix  -       -       n       -       -       smtp
		relay     unix  -       -       n       -       -       smtp
		showq     unix  n       -       n       -       -       showq
		error     unix  -       -       n       -       -       error
		retry     unix  -       -       n       -       -       error
		discard   unix  -       -       n       -       -       discard
		anvil     unix  -       -       n       -       1       anvil
		scache    unix  -       -       n       -       1       scache
		postlog   unix-dgram n  -       n       -       1       postlogd
	EOF
}

# e2e_postfix CMD... - run a postfix(1) command on the private instance.
# Postfix commands report errors only to syslog or a terminal: on failure the
# command is repeated under script(1) so that the reason is shown.
e2e_postfix() {
	if ! postfix -c "$E2E_PF" "$@" >>"$E2E_DIR/postfix-cmd.log" 2>&1; then
		script -qec "postfix -c '$E2E_PF' $*" /dev/null >>"$E2E_DIR/postfix-cmd.log" 2>&1 || true
		tail -n 5 "$E2E_DIR/postfix-cmd.log" >&2
		return 1
	fi
}

# e2e_postfix_master_pid - the private master's PID (empty if none)
e2e_postfix_master_pid() {
	local f=$E2E_DIR/queue/pid/master.pid
	[[ -r $f ]] && tr -d ' \n' <"$f"
	return 0
}

e2e_postfix_start() {
	e2e_postfix check || e2e_die "postfix check failed for $E2E_PF"
	e2e_postfix start || e2e_die "postfix start failed for $E2E_PF"
	E2E_POSTFIX_RUNNING=1
	e2e_wait_until "$E2E_TIMEOUT" "Postfix smtpd on port $E2E_SMTP_PORT" \
		e2e_port_open "$E2E_SMTP_PORT"
}

e2e_postfix_stop() {
	local pid
	((E2E_POSTFIX_RUNNING)) || return 0
	E2E_POSTFIX_RUNNING=0
	pid=$(e2e_postfix_master_pid)
	e2e_postfix stop || true
	if [[ -n $pid ]] && ! e2e_wait_until 30 "Postfix master (pid $pid) to exit" e2e_pid_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
}

# e2e_queue_empty - no message in the private queue
e2e_queue_empty() {
	[[ -z $(find "$E2E_DIR"/queue/{maildrop,incoming,active,deferred,hold} \
		-type f -print -quit 2>/dev/null) ]]
}

# e2e_postfix_queue_id MSGID - the queue id Postfix logged for a Message-ID
e2e_postfix_queue_id() {
	sed -n "s/^.* postfix[^:]*\/cleanup\[[0-9]*\]: \([0-9A-Za-z]*\): message-id=<$1>.*/\1/p" \
		"$E2E_DIR/postfix.log" | tail -n 1
}

e2e_postfix_has_queue_id() { [[ -n $(e2e_postfix_queue_id "$1") ]]; }

# e2e_postfix_wait_queue_id MSGID - wait until Postfix logged it, print it
e2e_postfix_wait_queue_id() {
	e2e_wait_until "$E2E_TIMEOUT" "Postfix to log the queue id of <$1>" \
		e2e_postfix_has_queue_id "$1" || return 1
	e2e_postfix_queue_id "$1"
}

# e2e_sendmail FROM RCPT... < message - local submission (non_smtpd_milters)
e2e_sendmail() {
	local from=$1
	shift
	sendmail -C "$E2E_PF" -f "$from" -- "$@"
}

# --------------------------------------------------------------------------
# The milter

# e2e_milter_config [EXTRA-LINE...] - write the milter's configuration and a
# fresh key. Extra lines are appended as they are.
e2e_milter_config() {
	local line
	E2E_MILTER_CONF=$E2E_DIR/feedback-milter.conf
	{
		echo "# feedback-milter configuration for the end-to-end tests"
		echo "Socket unix:$E2E_MILTER_SOCK"
		echo "SocketMode 0660"
		echo "UserID $E2E_MILTER_USER"
		echo "PidFile $E2E_DIR/run/feedback-milter.pid"
		echo "Syslog no"
		echo "LogLevel info"
		echo "KeyFile $E2E_DIR/run/feedback-milter.keys"
		echo "CodeLifetime 30d"
		echo "Database $E2E_DIR/db/feedback.db"
		for line in "$@"; do
			echo "$line"
		done
	} >"$E2E_MILTER_CONF"
	"$FEEDBACKCTL" -c "$E2E_MILTER_CONF" key new >>"$E2E_DIR/feedbackctl.log" 2>&1 ||
		e2e_die "feedbackctl key new failed: $(tail -n 3 "$E2E_DIR/feedbackctl.log")"
	# the milter reads its keys after dropping privileges
	chown "$E2E_MILTER_USER" "$E2E_DIR/run/feedback-milter.keys"
	"$FEEDBACK_MILTER" -c "$E2E_MILTER_CONF" -n >>"$E2E_DIR/milter.log" 2>&1 ||
		e2e_die "feedback-milter -n rejected $E2E_MILTER_CONF: $(tail -n 3 "$E2E_DIR/milter.log")"
}

# e2e_milter_start - start the milter in the foreground mode, in the
# background of this shell; wait for its socket
e2e_milter_start() {
	rm -f "$E2E_MILTER_SOCK"
	"$FEEDBACK_MILTER" -c "$E2E_MILTER_CONF" -f >>"$E2E_DIR/milter.log" 2>&1 &
	e2e_pid_save feedback-milter $!
	if ! e2e_wait_until "$E2E_TIMEOUT" "the milter socket $E2E_MILTER_SOCK" e2e_milter_ready ||
		! e2e_pid_alive "$(e2e_milter_pid)"; then
		e2e_pid_alive "$(e2e_milter_pid)" || e2e_note "feedback-milter exited"
		tail -n 20 "$E2E_DIR/milter.log" >&2
		e2e_die "feedback-milter did not start"
	fi
}

e2e_milter_pid() { e2e_pid_read feedback-milter; }

e2e_milter_ready() {
	# a milter that died stops the wait at once
	e2e_pid_alive "$(e2e_milter_pid)" || return 0
	[[ -S $E2E_MILTER_SOCK ]]
}

# e2e_milter_stop - SIGTERM and wait for the PID (libmilter takes a few s)
e2e_milter_stop() {
	e2e_stop_pid "$(e2e_milter_pid)" feedback-milter 30
	e2e_pid_forget feedback-milter
}

# e2e_milter_log_clean - the milter's log has no sanitizer or libmilter
# error report, and its last line says it stopped
e2e_milter_log_clean() {
	! grep -Eq 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' \
		"$E2E_DIR/milter.log"
}

# e2e_ctl ARGS... - feedbackctl with the test configuration
e2e_ctl() {
	"$FEEDBACKCTL" -c "$E2E_MILTER_CONF" "$@"
}

# e2e_json_get KEY - read one JSON object on stdin, print one field: strings
# as they are, lists one item a line, objects as "name=value" lines
e2e_json_get() {
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
if v is None:
    sys.exit(0)
if isinstance(v, list):
    for x in v:
        print(x)
elif isinstance(v, dict):
    for k, x in v.items():
        print("%s=%s" % (k, x))
elif isinstance(v, bool):
    print("true" if v else "false")
else:
    print(v)
' "$1"
}

# --------------------------------------------------------------------------
# Sending

# e2e_message TOKEN FROM TO [HEADER...] - a small RFC 5322 message on stdout.
# Its Message-ID is <TOKEN@e2e.test> and its body ends with "END TOKEN".
e2e_message() {
	local token=$1 from=$2 to=$3 h
	shift 3
	printf 'From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s@e2e.test>\n' \
		"$from" "$to" "$token" "$(date -R)" "$token"
	for h in "$@"; do
		printf '%s\n' "$h"
	done
	printf '\nTest message %s.\nEND %s\n' "$token" "$token"
}

# e2e_smtp_send [--port P] [--xclient ADDR] [--header "N: v"]... TOKEN FROM RCPT...
# Send one message over SMTP to the private Postfix. FROM may be "" (null
# sender). Prints one line: the final reply code and, for 250, the queue id
# ("250 4QxY1z2abc"), else the stage and text ("451 MAIL 4.7.1 Service ...").
# Exit 0 whenever the conversation took place.
e2e_smtp_send() {
	local port=$E2E_SMTP_PORT xclient="" headers=()
	while (($#)); do
		case $1 in
		--port) port=$2; shift 2 ;;
		--xclient) xclient=$2; shift 2 ;;
		--header) headers+=("$2"); shift 2 ;;
		*) break ;;
		esac
	done
	local token=$1 from=$2
	shift 2
	local msg
	msg=$(e2e_message "$token" "${from:-postmaster@remote.example}" "$1" "${headers[@]}")
	python3 - "$port" "$xclient" "$from" "$msg" "$@" <<-'PY'
		import re, smtplib, sys
		port, xclient, sender, msg = sys.argv[1:5]
		rcpts = sys.argv[5:]
		def out(code, text):
		    print(code, text)
		    sys.exit(0)
		def send():
		    s = smtplib.SMTP("127.0.0.1", int(port), local_hostname="client.e2e.test", timeout=60)
		    code, text = s.ehlo()
		    if code != 250:
		        out(code, "EHLO " + text.decode(errors="replace"))
		    if xclient:
		        code, text = s.docmd("XCLIENT", "ADDR=%s NAME=[UNAVAILABLE]" % xclient)
		        if code != 220:
		            out(code, "XCLIENT " + text.decode(errors="replace"))
		        code, text = s.ehlo()
		        if code != 250:
		            out(code, "EHLO " + text.decode(errors="replace"))
		    code, text = s.mail(sender)
		    if code != 250:
		        out(code, "MAIL " + text.decode(errors="replace"))
		    for r in rcpts:
		        code, text = s.rcpt(r)
		        if code not in (250, 251):
		            out(code, "RCPT " + text.decode(errors="replace"))
		    try:
		        code, text = s.data(msg)
		    except smtplib.SMTPDataError as e:
		        out(e.smtp_code, "DATA " + e.smtp_error.decode(errors="replace"))
		    text = text.decode(errors="replace")
		    try:
		        s.quit()
		    except Exception:
		        pass
		    if code != 250:
		        out(code, "DATA " + text)
		    m = re.search(r"queued as ([0-9A-Za-z]+)", text)
		    out(code, m.group(1) if m else "?")
		try:
		    send()
		except smtplib.SMTPResponseException as e:
		    out(e.smtp_code, "ERROR " + str(e.smtp_error))
		except smtplib.SMTPServerDisconnected as e:
		    out(421, "DISCONNECTED " + str(e))
	PY
}
