#!/usr/bin/env bash
# The test command: installs what the tests need when it is missing, then runs the suite.
#
#   scripts/test.sh            everything CI runs: unit tests, integration tests (real Kafka broker,
#                              MongoDB-wire store, the built jar, a real Prometheus), the fault tests
#                              (processor killed, store outage, ...), format, static analysis and
#                              dependency checks (`mvn -B verify -Pfaults`), then mutation testing
#                              (PIT) of the accounting, config, event, store and processor packages
#                              against their thresholds
#   scripts/test.sh --quick    the tests without the fault tests and without PIT
#
# Any other argument goes to Maven. Needs Java 17 and Maven 3.8+; the rest comes from Debian's packages
# (installed with apt-get when run as root or with sudo, otherwise the command to run is printed):
#   prometheus (promtool and the server), nodejs (k6 scripts' syntax), jq and python3-yaml (rules
#   and dashboards checks), chromium and chromium-driver (the web console's browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v promtool >/dev/null 2>&1 && [ -x /usr/bin/prometheus ] || missing+=(prometheus)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v jq >/dev/null 2>&1 || missing+=(jq)
{ python3 -c 'import yaml' 2>/dev/null || /usr/bin/python3 -c 'import yaml' 2>/dev/null; } || missing+=(python3-yaml)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo)
  else
    echo "scripts/test.sh: the tests need ${missing[*]}; install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 2
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# sed reads everything: `head` could close the pipe early and, with pipefail, fail the run.
java -version 2>&1 | sed -n 1p
mvn -v | sed -n 1p

if [ "${1:-}" = "--quick" ]; then
  shift
  exec mvn -B -ntp verify "$@"
fi
mvn -B -ntp verify -Pfaults "$@"
# PIT on the classes and tests just built (no lifecycle: nothing is rebuilt).
exec mvn -B -ntp -Pmutation \
  org.pitest:pitest-maven:mutationCoverage@accounting \
  org.pitest:pitest-maven:mutationCoverage@config \
  org.pitest:pitest-maven:mutationCoverage@event \
  org.pitest:pitest-maven:mutationCoverage@store \
  org.pitest:pitest-maven:mutationCoverage@processor
