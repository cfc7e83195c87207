#!/bin/bash
# run.sh - build the libFuzzer targets out of the tree and run each one
#
#	tests/fuzz/run.sh [TARGET...]
#
# Targets: codec config dsnfield milter parse (default: all). Each runs
# for FUZZ_SECONDS (default 60) with FUZZ_JOBS parallel jobs (default 1),
# from seeds made here: codes from the encoder, the sample configuration,
# the corpus messages (copied, never written into the project) and
# the regression inputs in tests/fuzz/regress/TARGET/. Everything goes to
# FUZZ_OUT (default a new temporary folder): the binaries, the corpora,
# the logs, and crash-* files. A crash input worth keeping goes into
# tests/fuzz/regress/TARGET/ (test_fuzz_regress replays it in make check).
#
# Needs clang with libFuzzer (libclang-rt-dev), python3, and the -dev
# packages the milter builds with. CC overrides the compiler.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
corpus=${CORPUS_DIR:-$top/../shared/corpus}
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
cc=${CC:-clang}
out=${FUZZ_OUT:-$(mktemp -d /tmp/fm-fuzz.XXXXXX)}
mkdir -p "$out"
# fuzz_milter's scratch store: in memory when there is /dev/shm
FUZZ_MILTER_DIR=$(mktemp -d "$([ -w /dev/shm ] && echo /dev/shm || echo "$out")/fm-fuzz.XXXXXX")
export FUZZ_MILTER_DIR
trap 'rm -rf "$FUZZ_MILTER_DIR"' EXIT
targets=${*:-codec config dsnfield milter parse}

cflags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -I$top/include
	-DFM_SYSCONFDIR=\"/etc\" -DFM_LOCALSTATEDIR=\"/var\""
pkgs="gmime-3.0 opendkim libunbound sqlite3 libcrypto"
m=$top/milter
parser="$m/report.c $m/dsnfield.c $m/bouncetext.c $m/repaddr.c
	$m/repgather.c $m/repmem.c $m/repses.c $m/reptable.c $m/mime.c
	$m/utf8.c $m/classify.c $m/classify_find.c $m/match.c $m/patterns.c"
config="$m/config.c $m/config_set.c $m/config_table.c $m/codec.c $m/rules.c"
libfm=$(sed -n '/^libfm_a_SOURCES/,/^$/p' "$m/Makefile.am" |
	tr -d '\\' | tr ' \t' '\n\n' | grep '\.c$' | sed "s|^|$m/|")

# build TARGET - compile tests/fuzz/fuzz_TARGET.c with what it needs
build() {
	local t=$1 src extra="" libs=""

	case $t in
	codec)	src="$m/codec.c"; libs=$(pkg-config --libs libcrypto) ;;
	config)	src=$config; libs=$(pkg-config --libs libcrypto) ;;
	dsnfield|parse)
		src=$parser
		extra="-I$m $(pkg-config --cflags gmime-3.0)"
		libs="$(pkg-config --libs gmime-3.0) -lpthread" ;;
	milter)	src="$libfm $m/mlfi.c"
		extra=$(pkg-config --cflags $pkgs)
		libs="-Wl,--wrap=fm_resolver_new $(pkg-config --libs $pkgs)
			-lspf2 -lpthread" ;;
	*)	echo "run.sh: unknown target $t" >&2; exit 2 ;;
	esac
	echo "== build fuzz_$t"
	# shellcheck disable=SC2086
	$cc $cflags $extra -o "$out/fuzz_$t" "$here/fuzz_$t.c" $src $libs
}

# seed_codes DIR - codes from the encoder, good and damaged
seed_codes() {
	python3 - "$1" <<'PY'
import os, sys, random
d = sys.argv[1]
random.seed(1)
alpha = "abcdefghijklmnopqrstuvwxyz234567"
for i in range(64):
    kind = bytes([random.randrange(256)])
    body = bytes(random.randrange(256) for _ in range(12))
    open(os.path.join(d, "enc%02d" % i), "wb").write(bytes([kind[0] | 0x80]) + body)
    code = "".join(random.choice(alpha) for _ in range(18))
    if i % 3 == 0:
        code = code.upper()
    open(os.path.join(d, "code%02d" % i), "wb").write(bytes([kind[0] & 0x7f, 0, i]) + code.encode())
PY
}

# seed_milter DIR - corpus messages as one inbound SMTP transaction each,
# and an outbound one from a trusted client
seed_milter() {
	python3 - "$1" "$corpus" <<'PY'
import os, sys
d, corpus = sys.argv[1], sys.argv[2]
def arg(b, wide=False):
    b = b[:65535 if wide else 255]
    return (len(b).to_bytes(2, "big") if wide else bytes([len(b)])) + b
def conv(msg):
    head, _, body = msg.replace(b"\r\n", b"\n").partition(b"\n\n")
    ops = bytearray([0x00, 0xff, 0x01, 10, 0, 0, 0x3c])  # client 10.0.0.60
    ops += b"\x00" + arg(b"mx.example.org")
    ops += b"\x08" + arg(b"4ABC123")
    ops += b"\x01" + arg(b"<>")
    ops += b"\x03" + bytes([0x00, 0x12, 0x34, 0x56, 0x78])
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") or not line:
            continue
        ops += b"\x04" + arg(line)
    body = body.replace(b"\n", b"\r\n")
    for i in range(0, min(len(body), 60000), 4096):
        ops += b"\x05" + arg(body[i:i + 4096], True)
    ops += b"\x06"
    return bytes(ops)
n = 0
for root, _, files in os.walk(corpus):
    for f in sorted(files):
        if f.endswith((".eml", ".txt", ".msg")) or "." not in f:
            data = open(os.path.join(root, f), "rb").read()
            if data:
                open(os.path.join(d, "msg%04d" % n), "wb").write(conv(data))
                n += 1
out = bytearray([0x00, 0xff, 0x00])
out += b"\x00" + arg(b"app.example.nl") + b"\x08" + arg(b"5DEF456")
out += b"\x01" + arg(b"<news@example.nl>") + b"\x02" + arg(b"<a@example.org>")
out += b"\x04" + arg(b"X-Campaign-ID: 42") + b"\x04" + arg(b"Subject: hi")
out += b"\x05" + arg(b"hello\r\n", True) + b"\x06"
open(os.path.join(d, "outbound"), "wb").write(bytes(out))
PY
}

# seeds TARGET DIR - fill DIR with the target's seeds
seeds() {
	local t=$1 d=$2 f

	mkdir -p "$d"
	case $t in
	codec)	seed_codes "$d" ;;
	config)	if [ -f "$m/feedback-milter.conf.sample" ]; then
			cp "$m/feedback-milter.conf.sample" "$d/sample"
			sed 's/^#//' "$m/feedback-milter.conf.sample" > "$d/uncommented"
		fi
		printf 'SenderDomain example.nl\nTrustedClients 10.0.0.0/8 ::1/128\n' > "$d/small" ;;
	dsnfield)
		printf '\000Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 no such user\n' > "$d/dsn"
		printf '\001Feedback-Type: abuse\nUser-Agent: x/1\nVersion: 1\nOriginal-Rcpt-To: <a@example.org>\n' > "$d/arf"
		if [ -d "$corpus" ]; then
			grep -rlZ -i -e '^Final-Recipient:' -e '^Feedback-Type:' "$corpus" 2>/dev/null |
			    head -z -n 200 | while IFS= read -r -d '' f; do
				{ printf '\000'; cat "$f"; } > "$d/c$(echo "$f" | md5sum | cut -c1-12)"
			done
		fi ;;
	milter)	[ -d "$corpus" ] && seed_milter "$d" ;;
	parse)	[ -d "$corpus" ] && find "$corpus" -type f -size -64k -print0 |
		    while IFS= read -r -d '' f; do
			cp "$f" "$d/c$(echo "$f" | md5sum | cut -c1-12)"
		done ;;
	esac
	if [ -d "$here/regress/$t" ]; then
		find "$here/regress/$t" -type f ! -name '.*' -exec cp {} "$d/" \;
	fi
}

# run TARGET - fuzz for $secs seconds
run() {
	local t=$1 w="$out/$t" maxlen=4096

	case $t in
	milter|parse|dsnfield) maxlen=65536 ;;
	esac
	mkdir -p "$w/corpus" "$w/seeds"
	seeds "$t" "$w/seeds"
	export FUZZ_SKIP_KNOWN=1
	echo "== run fuzz_$t for ${secs}s ($jobs jobs), output in $w"
	(cd "$w" && "$out/fuzz_$t" -max_len=$maxlen -max_total_time="$secs" \
	    -timeout=25 -rss_limit_mb=4096 -print_final_stats=1 \
	    -jobs="$jobs" -workers="$jobs" -artifact_prefix="$w/" \
	    corpus seeds > "$w/log" 2>&1) || true
	[ "$jobs" -gt 1 ] && cat "$w"/fuzz-*.log >> "$w/log" 2>/dev/null || true
	grep -h -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$w/log" "$w"/fuzz-*.log 2>/dev/null | tail -n "$jobs" || true
	ls "$w"/crash-* "$w"/leak-* "$w"/timeout-* "$w"/oom-* 2>/dev/null || echo "   no crash"
}

for t in $targets; do
	build "$t"
done
for t in $targets; do
	run "$t"
done
echo "== results in $out"
