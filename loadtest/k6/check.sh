#!/usr/bin/env bash
# Checks that every k6 script parses as an ES module (k6 itself is not needed): each file is copied
# as .mjs and checked with `node --check`. Exits non-zero if any does not parse. Optional argument:
# the folder to check (default: this one).
set -euo pipefail
here="$(cd "${1:-$(dirname "$0")}" && pwd)"
command -v node >/dev/null 2>&1 || { echo "k6 check: node not found (apt-get install nodejs)" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
while IFS= read -r f; do
  rel="${f#"$here"/}"
  mkdir -p "$tmp/$(dirname "$rel")"
  cp "$f" "$tmp/${rel%.js}.mjs"
  if node --check "$tmp/${rel%.js}.mjs" 2> "$tmp/err"; then
    echo "ok    $rel"
  else
    echo "FAIL  $rel"; sed 's/^/      /' "$tmp/err"; status=1
  fi
done < <(find "$here" -name '*.js' | sort)
exit $status
