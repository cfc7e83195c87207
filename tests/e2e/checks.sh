# shellcheck shell=bash
#
# tests/e2e/checks.sh - the checks of the end-to-end suites: one line per
# check ("ok - ..." / "not ok - ..." with the reasons), cases run in a
# subshell, and a closing "N passed, M failed". Source it after lib.sh;
# start with checks_begin, or set RESULTS to a file before the first check.
#
# Check lines go to fd 3 (the script's stdout), so that checks inside $(...)
# are shown too. E2E_CASE_AFTER names a function run_case calls after each
# case with the case's name and function (for instance to restart a
# milter a case left stopped).

RESULTS=""
SUMMARY_DONE=0
E2E_CASE_AFTER=${E2E_CASE_AFTER:-}
# a feedback code: 18 characters of lowercase Crockford base32
# shellcheck disable=SC2034 # used by the suites
CODE_RE='[0-9a-hjkmnp-tv-z]{18}'

# checks_begin EXIT_HOOK [PACKAGE...] - the start of a suite on a private
# Postfix (lib.sh): check lines to fd 3, the packages (lib.sh's and these),
# the binaries, the work directory with the results file in it, and the
# function run on exit
checks_begin() {
	local hook=$1
	shift
	exec 3>&1
	e2e_ensure_packages
	e2e_require_binaries
	if (($#)); then
		e2e_install "$@"
	fi
	e2e_init
	RESULTS=$E2E_DIR/results
	: >"$RESULTS"
	# shellcheck disable=SC2034 # read by lib.sh's exit trap
	E2E_EXIT_HOOK=$hook
}

record() { echo "$1 $2" >>"$RESULTS"; }

pass() {
	echo "ok - $1" >&3
	record PASS "$1"
}

# fail DESC [REASON...] - a failed check; returns 1
fail() {
	local desc=$1 line
	echo "not ok - $desc" >&3
	shift
	for line in "$@"; do
		echo "#   $line" >&3
	done
	record FAIL "$desc"
	return 1
}

# skip DESC WHY - a check that cannot run here, said so
skip() {
	echo "ok - $1 # SKIP $2" >&3
	record SKIP "$1"
}

note() { echo "# $*" >&3; }

# check DESC CMD... - CMD succeeds
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc" "command failed: $*"; fi
}

# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
	if [[ $3 == "$2" ]]; then
		pass "$1"
	else
		fail "$1" "expected: '$2'" "got:      '$3'"
	fi
}

# expect_match DESC ERE ACTUAL
expect_match() {
	if [[ $3 =~ $2 ]]; then
		pass "$1"
	else
		fail "$1" "expected to match: $2" "got: '$3'"
	fi
}

# expect_no_match DESC ERE ACTUAL
expect_no_match() {
	if [[ $3 =~ $2 ]]; then
		fail "$1" "expected not to match: $2" "got: '$3'"
	else
		pass "$1"
	fi
}

# expect_ne_empty DESC ACTUAL - ACTUAL is not empty
expect_ne_empty() {
	if [[ -n $2 ]]; then pass "$1"; else fail "$1" "expected a value, got nothing"; fi
}

count() { grep -c "^$1 " "$RESULTS" || true; }

# sink_file CASE TOKEN - wait for the message at the sink, print its file
# (a check that it arrived)
sink_file() {
	local f
	f=$(e2e_sink_wait "$2") || true
	check "$1: the message arrived at the sink" test -n "$f"
	echo "$f"
}

# decode_json CASE ADDRESS-OR-CODE - feedbackctl decode --json, exit 0
decode_json() {
	local out rc=0
	out=$(e2e_ctl decode --json "$2" 2>"$E2E_DIR/state/decode.err") || rc=$?
	expect_eq "$1: feedbackctl decode --json $2 exits 0" 0 "$rc"
	echo "$out"
}

# jget KEY JSON - one value of a JSON object (lib.sh's e2e_json_get)
jget() { e2e_json_get "$1" <<<"$2"; }

# run_case NAME FUNCTION - run one case in a subshell with errexit on; an
# unexpected error inside it counts as a failure of the case.
run_case() {
	local name=$1 fn=$2 rc before
	echo "# $name"
	before=$(count FAIL)
	set +e
	(
		set -e
		"$fn"
	)
	rc=$?
	set -e
	if ((rc != 0)) && (($(count FAIL) == before)); then
		fail "$name: aborted (exit $rc)" || true
	fi
	if [[ -n $E2E_CASE_AFTER ]]; then
		"$E2E_CASE_AFTER" "$name" "$fn"
	fi
}

summary() {
	((SUMMARY_DONE)) && return 0
	SUMMARY_DONE=1
	local skipped
	skipped=$(count SKIP)
	echo "$(count PASS) passed, $(count FAIL) failed$( ((skipped == 0)) || echo ", $skipped skipped")"
}

# checks_on_exit RC - for E2E_EXIT_HOOK: a setup step that died counts as a
# failed check, and the summary is still printed
checks_on_exit() {
	local rc=$1
	[[ -n $RESULTS && -f $RESULTS ]] || return 0
	if ((SUMMARY_DONE == 0 && rc != 0)); then
		echo "not ok - setup or teardown failed (exit $rc)" >&3
		record FAIL "setup"
		summary
	fi
}
