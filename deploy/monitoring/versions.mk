# Pinned versions of every third-party chart `make bootstrap-monitoring-prereqs` and
# `make deploy-monitoring` install: the one place to bump them (docs/deploy.md, "Upgrades").
# Check a newer one with `helm search repo <repo>/<chart> --versions` and read its upgrade notes.
KUBE_PROMETHEUS_STACK_VERSION ?= 76.5.1
LOKI_VERSION                  ?= 6.55.0
ALLOY_VERSION                 ?= 1.9.0
KEDA_VERSION                  ?= 2.17.2
METRICS_SERVER_VERSION        ?= 3.12.2
