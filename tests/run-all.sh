#!/usr/bin/env bash
# run-all.sh - set everything up and run every test: a build with warnings
# as errors (unit tests, manual lint, end-to-end tests with a real Postfix,
# the unit tests and three end-to-end suites again under valgrind, make
# distcheck), then the same tests built with ASan and UBSan, and the fault
# suite.
# Run as root from the source tree.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

bash tests/install-deps.sh
# out-of-tree builds need a source tree that is not configured in place
if [ -f config.status ]; then
	make -s distclean >/dev/null 2>&1 || true
fi
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

failed=0
step() {
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		echo "=== $name: ok"
	else
		echo "=== $name: FAILED"
		failed=$((failed + 1))
	fi
}

# build DIR CONFIGURE-ARGS... - configure and build out of tree
build() {
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs")
}

unit() {
	local dir=$1
	if ! make -s -C "$dir" check -j"$jobs"; then
		cat "$dir"/tests/test-suite.log 2>/dev/null || true
		return 1
	fi
	cat "$dir"/tests/test_*.log
}

# e2e DIR [SUITE...] - end-to-end suites against the build in DIR
e2e() {
	local dir=$1 rc=0 s suites
	shift
	suites=("$@")
	((${#suites[@]})) || suites=(outbound inbound dns ops security limits sendmail)
	for s in "${suites[@]}"; do
		FM_BUILD_DIR="$dir" bash "$top/tests/e2e/$s.sh" || rc=1
	done
	return "$rc"
}

# valgrind_e2e DIR SUITE... - suites with the daemon under valgrind
valgrind_e2e() {
	local dir=$1 rc=0 s
	shift
	for s in "$@"; do
		E2E_TIMEOUT=60 FEEDBACK_MILTER="$top/tests/e2e/valgrind-milter" \
			FM_VALGRIND_TARGET="$dir/milter/feedback-milter" \
			FM_BUILD_DIR="$dir" bash "$top/tests/e2e/$s.sh" || rc=1
	done
	return "$rc"
}

step "build (-Werror)" build "$top/build-werror" --enable-werror
step "unit tests" unit "$top/build-werror"
step "manual pages (mandoc -T lint)" make -s -C "$top/build-werror/man" lint
step "end-to-end (real Postfix)" e2e "$top/build-werror"
step "unit tests (valgrind)" make -s -C "$top/build-werror/tests" check-valgrind -j"$jobs"
step "end-to-end, milter under valgrind" valgrind_e2e "$top/build-werror" \
	outbound inbound limits sendmail
step "distcheck" make -s -C "$top/build-werror" distcheck \
	DISTCHECK_CONFIGURE_FLAGS=--enable-werror

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
step "build (ASan+UBSan)" build "$top/build-asan" --enable-werror --enable-sanitizers
step "unit tests (ASan+UBSan)" unit "$top/build-asan"
step "end-to-end (ASan+UBSan)" e2e "$top/build-asan"
step "faults (ASan+UBSan)" e2e "$top/build-asan" faults

if [ "$failed" -ne 0 ]; then
	echo "run-all: $failed step(s) failed"
	exit 1
fi
echo "run-all: every step passed"
