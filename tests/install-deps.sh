#!/usr/bin/env bash
# install-deps.sh - install the Debian packages that building and testing
# feedback-milter need; installs only what is missing. Run as root.
set -euo pipefail

PACKAGES=(
	gcc make autoconf automake pkg-config
	libmilter-dev libspf2-dev libopendkim-dev libgmime-3.0-dev
	libsqlite3-dev libssl-dev libunbound-dev libevent-dev libcmocka-dev
	mandoc postfix swaks sqlite3 python3 procps iproute2 nsd openssl valgrind
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
# Postfix must install without asking and without configuring the system's
# own instance: the tests run private instances.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string localhost.localdomain" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
# No service may start from a package's install script (nsd would take
# port 53): the tests start their own servers on chosen ports.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=1
fi
status=0
apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
if [ "$own_policy" -eq 1 ]; then
	rm -f "$policy"
fi
exit "$status"
