#!/usr/bin/env bash
# Checks that every k6 script parses as an ES module, without k6: node parses a file as a module only
# when its name ends in .mjs (a .js file outside a "type": "module" package is parsed as CommonJS,
# where `import` is a syntax error), so each .js file is copied to a temporary .mjs of the same
# relative path and checked with `node --check` (parse only: imports such as 'k6/http' are not
# resolved, nothing is run). Exits 1 if any file does not parse or there is none, 2 without node.
# Optional argument: the folder to check (default: the one this script is in).
set -euo pipefail
here="$(cd "${1:-$(dirname "$0")}" && pwd)"
command -v node >/dev/null 2>&1 || { echo "k6 check: node not found (apt-get install nodejs)" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
count=0
while IFS= read -r f; do
  rel="${f#"$here"/}"
  mkdir -p "$tmp/$(dirname "$rel")"
  cp "$f" "$tmp/${rel%.js}.mjs"
  count=$((count + 1))
  if node --check "$tmp/${rel%.js}.mjs" 2> "$tmp/err"; then
    echo "ok    $rel"
  else
    echo "FAIL  $rel"; sed "s|$tmp/||; s/^/      /" "$tmp/err"; status=1
  fi
done < <(find "$here" -name '*.js' -type f | sort)
if [ "$count" -eq 0 ]; then
  echo "FAIL  no .js files under $here"; exit 1
fi
echo "$count file(s) checked with node $(node --version)"
exit $status
