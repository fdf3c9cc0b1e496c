# gpu-telemetry: build, image, AWS K3s cluster, monitoring stack and Helm deployment.
# `make` (or `make help`) lists the targets. docs/deploy.md walks through them in order.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

JAR            := target/gpu-telemetry.jar
CHART          := charts/gpu-telemetry
TF_DIR         := terraform
# The chart's version and appVersion (the image tag CI publishes), read from Chart.yaml.
CHART_VERSION  := $(shell sed -n 's/^version: *//p' $(CHART)/Chart.yaml)
APP_VERSION    := $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}/\1/p' $(CHART)/Chart.yaml)
# `make image` builds $(IMAGE_BUILD_REPO):$(APP_VERSION) unless IMAGE_REPO / IMAGE_TAG say otherwise.
IMAGE_BUILD_REPO := ghcr.io/gpu-telemetry/gpu-telemetry
# Empty by default: `make deploy` then keeps the image of the chart and of VALUES; give
# IMAGE_REPO and/or IMAGE_TAG to override it.
IMAGE_REPO     ?=
IMAGE_TAG      ?=
IMAGE          ?= $(or $(IMAGE_REPO),$(IMAGE_BUILD_REPO)):$(or $(IMAGE_TAG),$(APP_VERSION))
# Cluster access: ./kubeconfig is written by bootstrap-k3s; an exported KUBECONFIG wins.
KUBECONFIG     ?= $(CURDIR)/kubeconfig
export KUBECONFIG
# Where bootstrap-k3s writes the cluster's kubeconfig.
KUBECONFIG_OUT ?= $(CURDIR)/kubeconfig
NAMESPACE      ?= gpu-telemetry
RELEASE        ?= gpu-telemetry
# Extra values file for `make deploy`, e.g. VALUES=$(CHART)/values-production.yaml.
VALUES         ?=
HELM_ARGS      ?=
# Revision for `make rollback`; empty rolls back to the previous one.
REVISION       ?=
DEPLOY_TIMEOUT ?= 10m
MONITORING_NS  ?= monitoring
# A K3s release of a Kubernetes minor version inside its upstream support window (docs/deploy.md).
K3S_VERSION    ?= v1.34.1+k3s1
SSH_KEY        ?= $(HOME)/.ssh/id_ed25519
SSH_OPTS       ?= -i $(SSH_KEY) -o StrictHostKeyChecking=accept-new -o ConnectTimeout=10 -o BatchMode=yes
# How long bootstrap-k3s / join-workers wait for a new instance's SSH, and how often they retry.
SSH_WAIT_SECONDS  ?= 300
SSH_RETRY_SECONDS ?= 5

include deploy/monitoring/versions.mk

# Terraform outputs, read when a recipe runs (not when make parses this file). Without state,
# `terraform output -raw` may exit 0 with a warning on stdout: the value is checked against the
# shape it must have, and a mismatch stops the recipe with what to do.
# $(call tf_output,NAME,REGEX)
tf_output = $$(v=$$(terraform -chdir=$(TF_DIR) output -raw $(1) 2>/dev/null) && [[ "$$v" =~ $(2) ]] \
  && echo "$$v" || { echo "error: no usable Terraform output '$(1)' in $(TF_DIR)/ (got: '$${v:-nothing}'); run 'make tf-apply' first" >&2; exit 1; })
IPV4_RE  := ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$$
USER_RE  := ^[a-z_][a-z0-9_-]*$$
AGENT_IPS_CMD = terraform -chdir=$(TF_DIR) output -json agent_public_ips | tr -d '[]" \n' | tr ',' ' '

# Waits for SSH on $(1) (user@host) up to SSH_WAIT_SECONDS, showing ssh's own error each time.
# $(call wait_ssh,USER@HOST)
wait_ssh = deadline=$$((SECONDS + $(SSH_WAIT_SECONDS))); \
  until err=$$(ssh $(SSH_OPTS) $(1) true 2>&1); do \
    if (( SECONDS >= deadline )); then \
      echo "error: no SSH to $(1) after $(SSH_WAIT_SECONDS)s: $$err" >&2; \
      echo "       check SSH_KEY ($(SSH_KEY)), the ssh_user output and admin_cidr in $(TF_DIR)/terraform.tfvars" >&2; \
      exit 1; \
    fi; \
    echo "waiting for SSH on $(1): $$err"; sleep $(SSH_RETRY_SECONDS); \
  done

.PHONY: help build test test-quick run image push tf-init tf-plan tf-apply tf-destroy bootstrap-k3s join-workers \
        require-cluster namespace bootstrap-monitoring-prereqs deploy-monitoring deploy-preflight deploy verify \
        rollback undeploy

help: ## List the targets
	@echo "Usage: make TARGET [VAR=value]"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-30s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: IMAGE=$(IMAGE) NAMESPACE=$(NAMESPACE) RELEASE=$(RELEASE) KUBECONFIG=$(KUBECONFIG)"

# --- Build and run locally --------------------------------------------------------------------

build: ## Build the fat jar (target/gpu-telemetry.jar), tests skipped
	mvn -B -DskipTests package

test: ## Run every test CI runs: fault tests and mutation testing included (scripts/test.sh)
	scripts/test.sh

test-quick: ## The tests without the fault tests and mutation testing (scripts/test.sh --quick)
	scripts/test.sh --quick

run: build ## Build, then run the whole pipeline locally (standalone role, port 8080)
	java -jar $(JAR)

image: ## Build the container image (IMAGE=repo:tag) from the sources: the Dockerfile builds the jar
	docker build --build-arg VERSION=$(APP_VERSION) -t $(IMAGE) .

push: ## Push the image to its registry
	docker push $(IMAGE)

# --- AWS infrastructure (terraform/) ---------------------------------------------------------

tf-init: ## terraform init in terraform/
	terraform -chdir=$(TF_DIR) init

tf-plan: ## terraform plan (needs terraform/terraform.tfvars)
	terraform -chdir=$(TF_DIR) plan

tf-apply: ## Create the VPC, security group, K3s server and agents
	@test -f $(TF_DIR)/terraform.tfvars || { echo "error: copy $(TF_DIR)/terraform.tfvars.example to $(TF_DIR)/terraform.tfvars and fill it in" >&2; exit 1; }
	terraform -chdir=$(TF_DIR) apply

tf-destroy: ## Destroy everything tf-apply created
	terraform -chdir=$(TF_DIR) destroy

# --- K3s over SSH -----------------------------------------------------------------------------

bootstrap-k3s: ## Install the K3s server over SSH (secrets encrypted at rest) and write ./kubeconfig
	@ip=$(call tf_output,server_public_ip,$(IPV4_RE)); user=$(call tf_output,ssh_user,$(USER_RE)); \
	echo "installing K3s $(K3S_VERSION) on $$user@$$ip"; \
	$(call wait_ssh,$$user@$$ip); \
	ssh $(SSH_OPTS) $$user@$$ip "curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION='$(K3S_VERSION)' sh -s - server --tls-san $$ip --secrets-encryption --write-kubeconfig-mode 0600"; \
	ssh $(SSH_OPTS) $$user@$$ip "sudo k3s kubectl wait --for=condition=Ready node --all --timeout=180s"; \
	ssh $(SSH_OPTS) $$user@$$ip "sudo cat /etc/rancher/k3s/k3s.yaml" | sed "s/127.0.0.1/$$ip/" > $(KUBECONFIG_OUT); \
	chmod 600 $(KUBECONFIG_OUT); \
	echo "wrote $(KUBECONFIG_OUT) (API server https://$$ip:6443); next: make join-workers"

join-workers: ## Join every agent to the K3s server over SSH
	@ip=$(call tf_output,server_public_ip,$(IPV4_RE)); private=$(call tf_output,server_private_ip,$(IPV4_RE)); \
	user=$(call tf_output,ssh_user,$(USER_RE)); \
	agents="$$($(AGENT_IPS_CMD))"; \
	if [ -z "$$agents" ]; then echo "no agents (agent_count = 0)"; exit 0; fi; \
	token=$$(ssh $(SSH_OPTS) $$user@$$ip "sudo cat /var/lib/rancher/k3s/server/node-token"); \
	for agent in $$agents; do \
	  echo "joining $$agent to https://$$private:6443"; \
	  $(call wait_ssh,$$user@$$agent); \
	  printf 'server: https://%s:6443\ntoken: %s\n' "$$private" "$$token" | \
	    ssh $(SSH_OPTS) $$user@$$agent "sudo mkdir -p /etc/rancher/k3s && sudo install -m 600 /dev/stdin /etc/rancher/k3s/config.yaml"; \
	  ssh $(SSH_OPTS) $$user@$$agent "curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION='$(K3S_VERSION)' K3S_URL='https://$$private:6443' sh -s - agent"; \
	done; \
	ssh $(SSH_OPTS) $$user@$$ip "sudo k3s kubectl wait --for=condition=Ready node --all --timeout=300s && sudo k3s kubectl get nodes -o wide"

# --- Cluster add-ons and the application -----------------------------------------------------

require-cluster:
	@command -v kubectl >/dev/null || { echo "error: kubectl is not installed" >&2; exit 1; }
	@command -v helm >/dev/null || { echo "error: helm is not installed" >&2; exit 1; }
	@kubectl get --raw=/readyz --request-timeout=10s >/dev/null 2>&1 || { \
	  echo "error: no reachable Kubernetes cluster (KUBECONFIG=$(KUBECONFIG))." >&2; \
	  echo "       Run 'make bootstrap-k3s' to create ./kubeconfig, or export KUBECONFIG for another cluster." >&2; \
	  exit 1; }

namespace: require-cluster ## Create the release's namespace (NAMESPACE), so that its Secrets can be created first
	kubectl create namespace $(NAMESPACE) --dry-run=client -o yaml | kubectl apply -f -

bootstrap-monitoring-prereqs: require-cluster ## Add Helm repos, ensure metrics-server, install KEDA (pinned versions)
	helm repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update
	helm repo add grafana https://grafana.github.io/helm-charts --force-update
	helm repo add kedacore https://kedacore.github.io/charts --force-update
	helm repo add metrics-server https://kubernetes-sigs.github.io/metrics-server/ --force-update
	helm repo update
	@# K3s ships metrics-server; install it only where the metrics API is missing.
	@if kubectl get apiservice v1beta1.metrics.k8s.io >/dev/null 2>&1; then \
	  echo "metrics-server already serves the metrics API"; \
	else \
	  echo "helm upgrade --install metrics-server metrics-server/metrics-server --version $(METRICS_SERVER_VERSION) -n kube-system --wait"; \
	  helm upgrade --install metrics-server metrics-server/metrics-server --version $(METRICS_SERVER_VERSION) -n kube-system --wait; \
	fi
	helm upgrade --install keda kedacore/keda --version $(KEDA_VERSION) -n keda --create-namespace --wait

deploy-monitoring: require-cluster ## Install kube-prometheus-stack, Loki and Grafana Alloy (namespace monitoring, pinned versions)
	kubectl create namespace $(MONITORING_NS) --dry-run=client -o yaml | kubectl apply -f -
	@# A generated Grafana admin password, kept in a Secret and never in a file of the repository.
	@if kubectl -n $(MONITORING_NS) get secret grafana-admin >/dev/null 2>&1; then \
	  echo "Secret $(MONITORING_NS)/grafana-admin exists: keeping its password"; \
	else \
	  echo "creating Secret $(MONITORING_NS)/grafana-admin with a generated password"; \
	  kubectl -n $(MONITORING_NS) create secret generic grafana-admin --from-literal=admin-user=admin \
	    --from-literal=admin-password="$$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"; \
	fi
	helm upgrade --install kube-prometheus-stack prometheus-community/kube-prometheus-stack --version $(KUBE_PROMETHEUS_STACK_VERSION) \
	  -n $(MONITORING_NS) -f deploy/monitoring/kube-prometheus-stack-values.yaml --wait --timeout 10m
	helm upgrade --install loki grafana/loki --version $(LOKI_VERSION) \
	  -n $(MONITORING_NS) -f deploy/monitoring/loki-values.yaml --wait --timeout 10m
	helm upgrade --install alloy grafana/alloy --version $(ALLOY_VERSION) \
	  -n $(MONITORING_NS) -f deploy/monitoring/alloy-values.yaml --wait
	@echo "Grafana: kubectl -n $(MONITORING_NS) port-forward svc/kube-prometheus-stack-grafana 3000:80"
	@echo "         user admin, password: kubectl -n $(MONITORING_NS) get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d"

# Values as `make deploy` passes them: the image only when IMAGE_REPO / IMAGE_TAG are given.
DEPLOY_VALUES = $(if $(VALUES),-f $(VALUES)) $(if $(IMAGE_REPO),--set image.repository=$(IMAGE_REPO)) \
  $(if $(IMAGE_TAG),--set image.tag=$(IMAGE_TAG)) $(HELM_ARGS)

deploy-preflight: namespace ## Check, before waiting on pods, that the Secrets and the Kafka address the release needs exist
	helm template $(RELEASE) $(CHART) -n $(NAMESPACE) $(DEPLOY_VALUES) | scripts/deploy-preflight.sh $(NAMESPACE)

deploy: deploy-preflight ## helm upgrade --install the chart (VALUES=file, IMAGE_REPO/IMAGE_TAG override the image)
	helm upgrade --install $(RELEASE) $(CHART) -n $(NAMESPACE) $(DEPLOY_VALUES) --wait --timeout $(DEPLOY_TIMEOUT)

verify: require-cluster ## Run `helm test` (the verify command inside the cluster)
	helm test $(RELEASE) -n $(NAMESPACE) --logs --timeout 5m

rollback: require-cluster ## Roll the release back to its previous revision (REVISION=n for another one)
	helm rollback $(RELEASE) $(REVISION) -n $(NAMESPACE) --wait --timeout $(DEPLOY_TIMEOUT)

undeploy: require-cluster ## Uninstall the chart (PVCs of the in-chart Kafka/MongoDB are kept)
	helm uninstall $(RELEASE) -n $(NAMESPACE)
