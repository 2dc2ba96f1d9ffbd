#!/usr/bin/env bash
# tests/deps.sh: a second run changes nothing and says nothing; without
# root, a missing package gives the exact apt-get line and a non-zero exit
# before anything is attempted.
set -uo pipefail
cd "$(dirname "$0")/../.."

echo "1..4"
out=$(tests/deps.sh 2>&1); rc=$?
if [[ $rc == 0 && -z $out ]]; then
	echo "ok 1 - a run with everything present is silent and succeeds"
else
	echo "not ok 1 - a run with everything present is silent and succeeds"
	printf '# rc=%s\n' "$rc"; printf '# %s\n' "$out"
fi

if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null; then
	for i in 2 3 4; do echo "ok $i # skip needs root and setpriv to run as another user"; done
	exit 0
fi
pkg=kipvs-no-such-package-for-test
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	env KIPVS_DEPS_EXTRA=$pkg tests/deps.sh 2>&1); rc=$?
[[ $rc != 0 ]] && echo "ok 2 - not root and a package missing: non-zero exit" ||
	echo "not ok 2 - not root and a package missing: non-zero exit"
grep -q "apt-get update && apt-get install -y --no-install-recommends $pkg\$" <<<"$out" &&
	echo "ok 3 - prints the exact apt-get line naming only what is missing" ||
	{ echo "not ok 3 - prints the exact apt-get line naming only what is missing"; printf '# %s\n' "$out"; }
grep -q "fetch-kernel" <<<"$out" &&
	echo "not ok 4 - stops before fetching the kernel" ||
	echo "ok 4 - stops before fetching the kernel"
