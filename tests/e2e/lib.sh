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
# For the inbound tests it adds a second private Postfix, the remote MTA
# of remote.example (e2e_remote_*), and an authoritative DNS server on
# loopback for the test zones (e2e_dns_*, NSD through tests/dns/dnsserver.sh).
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
#   DKIMSIGN         the test signer (default: $FM_BUILD_DIR/tests/tools/dkimsign)

E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FM_BUILD_DIR=${FM_BUILD_DIR:-$E2E_TOP}
FEEDBACK_MILTER=${FEEDBACK_MILTER:-$FM_BUILD_DIR/milter/feedback-milter}
FEEDBACKCTL=${FEEDBACKCTL:-$FM_BUILD_DIR/milter/feedbackctl}
E2E_MILTER_USER=${E2E_MILTER_USER:-postfix}
E2E_TIMEOUT=${E2E_TIMEOUT:-20}
E2E_KEEP=${E2E_KEEP:-0}
DKIMSIGN=${DKIMSIGN:-$FM_BUILD_DIR/tests/tools/dkimsign}

# Set by the functions below.
E2E_DIR=""		# the work directory
E2E_PF=""		# the private Postfix config_directory
E2E_SMTP_PORT=""	# Postfix smtpd (with the milter)
E2E_BARE_PORT=""	# Postfix smtpd without milters (benchmarks)
E2E_SINK_PORT=""	# smtp-sink
E2E_MILTER_CONF=""
E2E_MILTER_SOCK=""
E2E_POSTFIX_RUNNING=0
E2E_REMOTE_PF=""	# the remote Postfix's config_directory (e2e_remote_*)
E2E_REMOTE_PORT=""	# its smtpd
E2E_REMOTE_RUNNING=0
E2E_DNS_DIR=""		# NSD's work directory (e2e_dns_*)
E2E_DNS_PORT=""		# NSD on 127.0.0.1@E2E_DNS_PORT, UDP and TCP
E2E_DNS_RUNNING=0

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
		"$E2E_DIR"/postfix-cmd.log "$E2E_DIR"/remote.log "$E2E_DIR"/dns.log \
		"$E2E_DIR"/dns/nsd.log; do
		[[ -s $f ]] || continue
		printf '\n----- %s (last 60 lines) -----\n' "$f" >&2
		tail -n 60 "$f" >&2
	done
}

# e2e_stop_all - stop the milter, Postfix (both instances), the sink and
# the DNS server (each by its PID)
e2e_stop_all() {
	e2e_milter_stop
	e2e_postfix_stop
	e2e_remote_stop
	e2e_sink_stop
	e2e_dns_stop
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
# own header section, after the sink's X-* lines), one a line; folded
# values are unfolded (each line break and the white space after it becomes
# one space)
e2e_sink_header() {
	awk -v name="$2" '
		function flush() { if (inh) print v; inh = 0 }
		BEGIN { n = tolower(name) ":" }
		/^\r?$/ { exit }
		/^[ \t]/ { if (inh) { c = $0; sub(/^[ \t]+/, "", c); sub(/\r$/, "", c); v = v " " c }; next }
		{ flush(); if (tolower(substr($0, 1, length(n))) == n) { v = substr($0, length(n) + 1); sub(/^[ \t]+/, "", v); sub(/\r$/, "", v); inh = 1 } }
		END { flush() }
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

# e2e_milter_config_write [EXTRA-LINE...] - write the milter's configuration
# file only (no new key): to change options of a running milter, write it
# again and call e2e_milter_reload. Extra lines are appended as they are.
e2e_milter_config_write() {
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
	} >"$E2E_MILTER_CONF.new"
	mv -f "$E2E_MILTER_CONF.new" "$E2E_MILTER_CONF"
}

# e2e_milter_config [EXTRA-LINE...] - write the milter's configuration and a
# fresh key. Extra lines are appended as they are.
e2e_milter_config() {
	e2e_milter_config_write "$@"
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

# e2e_milter_reload - SIGHUP: the milter rereads its configuration and keys;
# wait for its "reloaded" log line. Fails if the milter did not reload.
e2e_milter_reload() {
	local before
	before=$(wc -l <"$E2E_DIR/milter.log")
	kill -HUP "$(e2e_milter_pid)" || return 1
	e2e_wait_until "$E2E_TIMEOUT" "the milter to reload its configuration" \
		e2e_log_after "$E2E_DIR/milter.log" "$before" 'reloaded'
}

# e2e_log_after FILE LINE ERE - FILE has a line matching ERE after line LINE
e2e_log_after() {
	tail -n +"$(($2 + 1))" "$1" | grep -Eq -- "$3"
}

# e2e_milter_log_clean - the milter's log has no sanitizer report and no
# valgrind report (tests/e2e/valgrind-milter runs it with --quiet: every
# "==PID==" line is an error or a leak)
e2e_milter_log_clean() {
	! grep -Eq 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: .*Sanitizer|^==[0-9]+== ' \
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

# e2e_smtp_send [--port P] [--xclient ADDR] [--bare] [--header "N: v"]... TOKEN FROM RCPT...
# Send one message over SMTP to the private Postfix. FROM may be "" (null
# sender); --bare sends it without angle brackets (MAIL FROM:a@b). Prints one line: the final reply code and, for 250, the queue id
# ("250 4QxY1z2abc"), else the stage and text ("451 MAIL 4.7.1 Service ...").
# Exit 0 whenever the conversation took place.
e2e_smtp_send() {
	local port=$E2E_SMTP_PORT xclient="" bare="" headers=()
	while (($#)); do
		case $1 in
		--port) port=$2; shift 2 ;;
		--xclient) xclient=$2; shift 2 ;;
		--bare) bare=1; shift ;;
		--header) headers+=("$2"); shift 2 ;;
		*) break ;;
		esac
	done
	local token=$1 from=$2
	shift 2
	local msg
	msg=$(e2e_message "$token" "${from:-postmaster@remote.example}" "$1" "${headers[@]}")
	python3 - "$port" "$xclient" "$from" "$msg" "$bare" "$@" <<-'PY'
		import re, smtplib, sys
		port, xclient, sender, msg, bare = sys.argv[1:6]
		rcpts = sys.argv[6:]
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
		    if bare:
		        code, text = s.docmd("MAIL", "FROM:" + sender)
		    else:
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
		    # Postfix: "2.0.0 Ok: queued as QID"; Sendmail: "2.0.0 QID Message
		    # accepted for delivery"
		    m = re.search(r"queued as ([0-9A-Za-z]+)", text) or \
		        re.search(r"^2\.0\.0 ([0-9A-Za-z]+) Message accepted", text)
		    out(code, m.group(1) if m else "?")
		try:
		    send()
		except smtplib.SMTPResponseException as e:
		    out(e.smtp_code, "ERROR " + str(e.smtp_error))
		except smtplib.SMTPServerDisconnected as e:
		    out(421, "DISCONNECTED " + str(e))
	PY
}

# e2e_smtp_raw FROM RCPT FILE [HELO] - one message to the private Postfix
# (or whatever listens on E2E_SMTP_PORT) over SMTP (python, the file's
# octets as they are, so folded headers and odd octets go as written);
# prints "250 QID" or the failing reply. With E2E_SMTP_TLS_HELO set, the
# client says STARTTLS after EHLO HELO and then EHLO E2E_SMTP_TLS_HELO
# ("000 STARTTLS not offered" when the server does not offer it).
e2e_smtp_raw() {
	python3 - "$E2E_SMTP_PORT" "$1" "$2" "$3" "${4:-client.e2e.test}" \
		"${E2E_SMTP_TLS_HELO:-}" <<-'PY'
		import re, smtplib, ssl, sys
		port, sender, rcpt, path, helo, tls_helo = sys.argv[1:7]
		msg = open(path, "rb").read()
		try:
		    s = smtplib.SMTP("127.0.0.1", int(port), local_hostname=helo, timeout=300)
		    s.ehlo()
		    if tls_helo:
		        if not s.has_extn("starttls"):
		            print("000 STARTTLS not offered"); sys.exit(0)
		        s.starttls(context=ssl._create_unverified_context())
		        s.ehlo(tls_helo)
		    code, text = s.mail(sender)
		    if code != 250:
		        print(code, "MAIL", text.decode(errors="replace")); sys.exit(0)
		    code, text = s.rcpt(rcpt)
		    if code not in (250, 251):
		        print(code, "RCPT", text.decode(errors="replace")); sys.exit(0)
		    code, text = s.data(msg)
		    text = text.decode(errors="replace")
		    s.quit()
		    m = re.search(r"queued as ([0-9A-Za-z]+)", text) or \
		        re.search(r"^2\.0\.0 ([0-9A-Za-z]+) Message accepted", text)
		    print(code, m.group(1) if m and code == 250 else "DATA " + text)
		except smtplib.SMTPResponseException as e:
		    print(e.smtp_code, "ERROR", e.smtp_error)
	PY
}

# e2e_swaks_in FILE RCPT ADDR MAILFROM HELO - FILE to RCPT through the
# private Postfix with swaks, the client made to look like ADDR (XCLIENT)
# with HELO; prints "250 QID", or the first refusal as "CODE STAGE TEXT"
# (stage XCLIENT, EHLO, MAIL, RCPT or DATA), or "000 ? ..." on no answer
e2e_swaks_in() {
	local file=$1 rcpt=$2 addr=$3 from=$4 helo=$5 log
	log=$E2E_DIR/state/swaks.$(basename "$file").log
	swaks --server "127.0.0.1:$E2E_SMTP_PORT" --helo "$helo" \
		--xclient-addr "$addr" --xclient-name "$helo" \
		--from "$from" --to "$rcpt" --data "@$file" --timeout 60 >"$log" 2>&1 || true
	awk '
		/^ -> (XCLIENT|EHLO|MAIL|RCPT|DATA)/ { stage = $2; sub(/ .*/, "", stage) }
		/^ -> \.$/ { stage = "DATA" }
		/^<\*\* +[0-9][0-9][0-9]/ { t = $0; sub(/^<\*\* +/, "", t); print substr(t, 1, 3), stage, substr(t, 5); found = 1; exit }
		/^<-  250 .*queued as / { print "250", $NF; found = 1; exit }
		END { if (!found) print "000 ? no result (see " FILENAME ")" }
	' "$log"
}

# e2e_postconf NAME=VALUE... - change the private Postfix's main.cf (takes
# effect at start, or after e2e_postfix_reload)
e2e_postconf() {
	postconf -c "$E2E_PF" -e "$@"
}

# e2e_postfix_reload - postfix reload, and wait until the master logged it
e2e_postfix_reload() {
	local before
	before=$(wc -l <"$E2E_DIR/postfix.log")
	e2e_postfix reload || return 1
	e2e_wait_until "$E2E_TIMEOUT" "Postfix to reload" \
		e2e_log_after "$E2E_DIR/postfix.log" "$before" 'reload -- version'
}

# e2e_sql SQL - run SQL on the milter's store read-only and print the rows
# ('|' between columns). It runs as the milter's user, who owns the
# database and its WAL files (root would create files the milter cannot
# open).
e2e_sql() {
	runuser -u "$E2E_MILTER_USER" -- sqlite3 -readonly -batch -noheader \
		"$E2E_DIR/db/feedback.db" "$1"
}

# --------------------------------------------------------------------------
# The remote MTA: a second private Postfix (mx.remote.example)
#
#   private Postfix (ours) ──smtp──▶ remote Postfix (127.0.0.1:E2E_REMOTE_PORT)
#          ▲                               │ rejects at RCPT (recipient_access),
#          └──── DSNs, over SMTP ──────────┘ bounces or defers after accepting
#
# Its maps are texthash: files in E2E_REMOTE_PF, written with e2e_remote_map
# before e2e_remote_start (or followed by e2e_remote_reload):
#   recipient_access  ADDRESS  ACTION   e.g. "550 5.1.1 User unknown"
#   transport         KEY      TRANSPORT e.g. "mailstore:5.2.2 Mailbox full"
#                                        (accepted, then bounced by B) or
#                                        "mailstore:4.2.1 Try later" (deferred)
# Mail it does not route elsewhere is accepted and thrown away (discard).
# The mailstore transport is a pipe(8) to a script that refuses every
# message with the status and text of its next hop, so that B itself writes
# the DSN. (The error and retry transports would not do: Postfix's smtpd
# already refuses such recipients at RCPT.)

# e2e_remote_setup - write the remote instance's configuration. Its queue
# runs every second and it sends "delayed" DSNs after
# E2E_REMOTE_DELAY_WARNING (default 0: none).
e2e_remote_setup() {
	local dir=$E2E_DIR/remote
	E2E_REMOTE_PF=$dir/etc
	mkdir -p "$dir"/{etc,queue,data}
	chown postfix:postfix "$dir/data"
	: >"$E2E_REMOTE_PF/recipient_access"
	: >"$E2E_REMOTE_PF/transport"
	cat >"$dir/mailstore" <<-'EOF'
		#!/bin/sh
		# mailstore STATUS TEXT - refuse the message: pipe(8) takes the
		# enhanced status code at the start of the output (4.x.x defers,
		# 5.x.x bounces) and quotes the text in the DSN
		cat >/dev/null
		echo "$*"
		case $1 in 4.*) exit 75 ;; *) exit 69 ;; esac
	EOF
	chmod 0755 "$dir/mailstore"
	cat >"$E2E_REMOTE_PF/main.cf" <<-EOF
		# private instance: the remote MTA of remote.example
		compatibility_level = 3.6
		queue_directory = $dir/queue
		data_directory = $dir/data
		maillog_file = $E2E_DIR/remote.log
		maillog_file_prefixes = $E2E_DIR/
		syslog_name = postfix-remote
		myhostname = mx.remote.example
		mydomain = remote.example
		myorigin = \$myhostname
		mydestination =
		local_recipient_maps =
		alias_maps =
		alias_database =
		inet_interfaces = loopback-only
		inet_protocols = ipv4
		mynetworks = 127.0.0.0/8
		relay_domains = remote.example
		default_transport = discard:no remote delivery in the tests
		relay_transport = discard:delivered (test)
		transport_maps = texthash:$E2E_REMOTE_PF/transport
		smtpd_recipient_restrictions = check_recipient_access texthash:$E2E_REMOTE_PF/recipient_access, permit_mynetworks, reject_unauth_destination
		smtp_dns_support_level = disabled
		smtpd_tls_security_level = none
		smtp_tls_security_level = none
		biff = no
		append_dot_mydomain = no
		queue_run_delay = 1s
		minimal_backoff_time = 1s
		maximal_backoff_time = 1s
		delay_warning_time = ${E2E_REMOTE_DELAY_WARNING:-0}
	EOF
	cat >"$E2E_REMOTE_PF/master.cf" <<-EOF
		# service type  private unpriv  chroot  wakeup  maxproc command
		127.0.0.1:$E2E_REMOTE_PORT inet n - n - - smtpd
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
		mailstore unix  -       n       n       -       -       pipe
		  user=nobody argv=$dir/mailstore \${nexthop}
	EOF
}

# e2e_remote_map MAP KEY VALUE - add a line to one of the remote's maps
e2e_remote_map() {
	printf '%s\t%s\n' "$2" "$3" >>"$E2E_REMOTE_PF/$1"
}

# e2e_remote_postfix CMD... - a postfix(1) command on the remote instance
e2e_remote_postfix() {
	if ! postfix -c "$E2E_REMOTE_PF" "$@" >>"$E2E_DIR/postfix-cmd.log" 2>&1; then
		script -qec "postfix -c '$E2E_REMOTE_PF' $*" /dev/null >>"$E2E_DIR/postfix-cmd.log" 2>&1 || true
		tail -n 5 "$E2E_DIR/postfix-cmd.log" >&2
		return 1
	fi
}

e2e_remote_master_pid() {
	local f=$E2E_DIR/remote/queue/pid/master.pid
	[[ -r $f ]] && tr -d ' \n' <"$f"
	return 0
}

e2e_remote_start() {
	e2e_remote_postfix check || e2e_die "postfix check failed for $E2E_REMOTE_PF"
	e2e_remote_postfix start || e2e_die "postfix start failed for $E2E_REMOTE_PF"
	E2E_REMOTE_RUNNING=1
	e2e_pid_save postfix-remote "$(e2e_remote_master_pid)"
	e2e_wait_until "$E2E_TIMEOUT" "the remote Postfix on port $E2E_REMOTE_PORT" \
		e2e_port_open "$E2E_REMOTE_PORT"
}

e2e_remote_reload() {
	local before
	before=$(wc -l <"$E2E_DIR/remote.log")
	e2e_remote_postfix reload || return 1
	e2e_wait_until "$E2E_TIMEOUT" "the remote Postfix to reload" \
		e2e_log_after "$E2E_DIR/remote.log" "$before" 'reload -- version'
}

e2e_remote_stop() {
	local pid
	((E2E_REMOTE_RUNNING)) || return 0
	E2E_REMOTE_RUNNING=0
	pid=$(e2e_remote_master_pid)
	[[ -n $pid ]] || pid=$(e2e_pid_read postfix-remote)
	e2e_remote_postfix stop || true
	if [[ -n $pid ]] && ! e2e_wait_until 30 "remote Postfix master (pid $pid) to exit" e2e_pid_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	e2e_pid_forget postfix-remote
}

# --------------------------------------------------------------------------
# DNS: NSD on loopback serving test zones (tests/dns/dnsserver.sh)

# e2e_dns_start ZONE... - start NSD on a free port (E2E_DNS_PORT) serving the
# zone files (FILE or NAME=FILE, as dnsserver.sh takes them); the milter's
# configuration then says "Nameservers 127.0.0.1@$E2E_DNS_PORT".
e2e_dns_start() {
	local try rc
	E2E_DNS_DIR=$E2E_DIR/dns
	for try in 1 2 3 4 5; do
		read -r E2E_DNS_PORT < <(e2e_free_ports 1)
		rc=0
		bash "$E2E_TOP/tests/dns/dnsserver.sh" start "$E2E_DNS_DIR" "$E2E_DNS_PORT" "$@" \
			>>"$E2E_DIR/dns.log" 2>&1 || rc=$?
		if ((rc == 0)); then
			E2E_DNS_RUNNING=1
			e2e_pid_save nsd "$(tr -dc '0-9' <"$E2E_DNS_DIR/nsd.pid")"
			return 0
		fi
		((rc == 2)) || break
		e2e_note "DNS port $E2E_DNS_PORT was taken (try $try)"
	done
	tail -n 20 "$E2E_DIR/dns.log" >&2
	e2e_die "the DNS server did not start"
}

e2e_dns_stop() {
	((E2E_DNS_RUNNING)) || return 0
	E2E_DNS_RUNNING=0
	bash "$E2E_TOP/tests/dns/dnsserver.sh" stop "$E2E_DNS_DIR" >>"$E2E_DIR/dns.log" 2>&1 || true
	# dnsserver.sh stops it by the PID NSD wrote; make sure with ours
	e2e_stop_pid "$(e2e_pid_read nsd)" nsd 10
	e2e_pid_forget nsd
}

# e2e_dns_query NAME TYPE - ask the test server (python, no dig needed);
# prints the answer's TXT strings joined, or addresses, one a line
e2e_dns_query() {
	python3 - "$E2E_DNS_PORT" "$1" "$2" <<-'PY'
		import random, socket, struct, sys
		port, name, qtype = int(sys.argv[1]), sys.argv[2].rstrip("."), sys.argv[3]
		t = {"A": 1, "TXT": 16}[qtype]
		qid = random.randrange(65536)
		q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
		q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
		q += struct.pack(">HH", t, 1)
		s = socket.create_connection(("127.0.0.1", port), timeout=5)
		s.sendall(struct.pack(">H", len(q)) + q)
		def recv(n):
		    b = b""
		    while len(b) < n:
		        c = s.recv(n - len(b))
		        if not c:
		            sys.exit(1)
		        b += c
		    return b
		r = recv(struct.unpack(">H", recv(2))[0])
		an = struct.unpack(">H", r[6:8])[0]
		i = len(q)
		def skip(i):
		    while True:
		        l = r[i]
		        if l >= 192:
		            return i + 2
		        if l == 0:
		            return i + 1
		        i += l + 1
		for _ in range(an):
		    i = skip(i)
		    rt, _, _, rl = struct.unpack(">HHIH", r[i:i + 10])
		    i += 10
		    d = r[i:i + rl]
		    i += rl
		    if rt == 1 and t == 1:
		        print(".".join(str(x) for x in d))
		    elif rt == 16 and t == 16:
		        out, j = b"", 0
		        while j < len(d):
		            out += d[j + 1:j + 1 + d[j]]
		            j += 1 + d[j]
		        print(out.decode())
	PY
}

# --------------------------------------------------------------------------
# DKIM keys and signing (tests/tools/dkimsign)

# e2e_ensure_dkimsign - build the test signer if it is missing
e2e_ensure_dkimsign() {
	[[ -x $DKIMSIGN ]] && return 0
	make -s -C "$FM_BUILD_DIR/tests" tools/dkimsign >>"$E2E_DIR/build.log" 2>&1 ||
		e2e_die "cannot build $DKIMSIGN (make -C $FM_BUILD_DIR/tests tools/dkimsign)"
}

# e2e_dkim_key DOMAIN SELECTOR ZONEFILE - make a 2048-bit RSA key
# ($E2E_DIR/dkim/SELECTOR.DOMAIN.pem) and append its TXT record to ZONEFILE
# (a copy of a test zone), split into strings of at most 255 octets.
e2e_dkim_key() {
	local domain=$1 selector=$2 zone=$3 key txt strings="" i
	key=$E2E_DIR/dkim/$selector.$domain.pem
	mkdir -p "$E2E_DIR/dkim"
	openssl genrsa -out "$key" 2048 2>/dev/null || e2e_die "openssl genrsa failed"
	txt=$("$DKIMSIGN" -p -k "$key") || e2e_die "dkimsign -p failed"
	for ((i = 0; i < ${#txt}; i += 250)); do
		strings+=" \"${txt:i:250}\""
	done
	printf '%s._domainkey.%s.\t300\tIN\tTXT\t(%s )\n' "$selector" "$domain" "$strings" >>"$zone"
	echo "$key"
}

# e2e_dkim_sign DOMAIN SELECTOR KEY IN OUT - sign the message IN into OUT
# (CRLF line ends)
e2e_dkim_sign() {
	"$DKIMSIGN" -d "$1" -s "$2" -k "$3" -o "$5" "$4"
}
