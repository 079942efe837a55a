#!/bin/sh
# End-to-end tests of the Rempart image, as TAP.
#
#   tests/e2e/run-e2e.sh [DISK]     (default build-image/test/disk.img, TEST=1 make image)
#
# Runs tests/e2e/suite.py (every boot on copies of DISK in a temporary
# directory; DISK and build-image/ are never written) and turns its
# "@@E2E name PASS|FAIL|SKIP detail" lines into TAP: "ok N - e2e/name",
# "not ok N - e2e/name detail", "ok N - e2e/name # SKIP detail"; the suite's
# other output (boot timings, log paths) becomes TAP comments. Exit status 0 only if
# every test passed (or was skipped) and the suite itself succeeded.
# REMPART_E2E_ARGS adds suite options (e.g. "--keep" to keep the console logs).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
disk=${1:-$repo/build-image/test/disk.img}
if [ ! -f "$disk" ]; then
	echo "run-e2e.sh: no image $disk: run 'TEST=1 make image' first" >&2
	exit 2
fi

rcfile=$(mktemp /tmp/rempart-e2e-rc.XXXXXX)
trap 'rm -f "$rcfile"' EXIT
trap 'exit 130' INT TERM
# Results are printed as they come (a run takes minutes); the suite status
# travels through a file because a POSIX shell pipeline has no pipefail.
{
	rc=0
	# shellcheck disable=SC2086 # REMPART_E2E_ARGS is a list of options
	python3 "$here/suite.py" --disk "$disk" ${REMPART_E2E_ARGS:-} 2>&1 || rc=$?
	echo "$rc" > "$rcfile"
} | awk -v rcfile="$rcfile" '
	/^@@E2E / {
		n++
		name = $2; status = $3
		detail = $0; sub(/^@@E2E [^ ]+ [^ ]+ ?/, "", detail)
		if (status == "PASS") { print "ok " n " - e2e/" name; if (detail != "") print "#   " detail }
		else if (status == "SKIP") print "ok " n " - e2e/" name " # SKIP " detail
		else { print "not ok " n " - e2e/" name " " detail; failed++ }
		fflush()
		next
	}
	{ print "# " $0; fflush() }
	END {
		suite_rc = 1
		if ((getline line < rcfile) > 0) suite_rc = line + 0
		if (suite_rc != 0 && failed == 0) {
			n++; print "not ok " n " - e2e/suite exit status " suite_rc; failed++
		}
		if (n == 0) { n = 1; print "not ok 1 - e2e/suite produced no result"; failed = 1 }
		print "1.." n
		exit failed ? 1 : 0
	}'
