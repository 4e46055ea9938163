#!/bin/sh
# The README's conformance table (runc's column and a runtime's) from the baseline and the
# results conformance.sh wrote, both "name ok not_ok" lines:
#
#   sh tests/oci/table.sh [BASELINE] [RESULTS]
#
# Defaults: ../shared/oci/runc-baseline.txt beside the repository, and
# target/oci/conformance-gocker.txt. Programs in the baseline's order, then TOTAL.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
baseline=${1:-$root/../shared/oci/runc-baseline.txt}
results=${2:-$root/target/oci/conformance-gocker.txt}
for f in "$baseline" "$results"; do
	[ -r "$f" ] || {
		echo "table: cannot read $f" >&2
		exit 2
	}
done
awk '
	FILENAME == ARGV[1] { if ($0 !~ /^#/ && NF == 3) { b[$1] = $2 " / " $3; if ($1 != "TOTAL") order[++n] = $1 }; next }
	$0 !~ /^#/ && NF == 3 { g[$1] = $2 " / " $3 }
	END {
		print "| program | runc ok / not ok | gocker ok / not ok |"
		print "|---|---:|---:|"
		for (i = 1; i <= n; i++) printf "| %s | %s | %s |\n", order[i], b[order[i]], (order[i] in g) ? g[order[i]] : "not run"
		printf "| TOTAL | %s | %s |\n", b["TOTAL"], ("TOTAL" in g) ? g["TOTAL"] : "-"
	}
' "$baseline" "$results"
