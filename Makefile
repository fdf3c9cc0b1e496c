# gpu-telemetry: build, image, AWS K3s cluster, monitoring stack and Helm deployment.
# `make` (or `make help`) lists the targets. docs/deploy.md walks through them in order.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

JAR            := target/gpu-telemetry.jar
CHART          := charts/gpu-telemetry
TF_DIR         := terraform
# Image: push it where the cluster can pull from (IMAGE_REPO=ghcr.io/you/gpu-telemetry make image push).
IMAGE_REPO     ?= gpu-telemetry
IMAGE_TAG      ?= 0.1.0
IMAGE          ?= $(IMAGE_REPO):$(IMAGE_TAG)
# Cluster access: ./kubeconfig is written by bootstrap-k3s; an exported KUBECONFIG wins.
KUBECONFIG     ?= $(CURDIR)/kubeconfig
export KUBECONFIG
NAMESPACE      ?= gpu-telemetry
RELEASE        ?= gpu-telemetry
# Extra values file for `make deploy`, e.g. VALUES=$(CHART)/ci/dev-inchart-values.yaml.
VALUES         ?=
HELM_ARGS      ?=
MONITORING_NS  ?= monitoring
K3S_VERSION    ?= v1.31.4+k3s1
SSH_KEY        ?= $(HOME)/.ssh/id_ed25519
SSH_OPTS       ?= -i $(SSH_KEY) -o StrictHostKeyChecking=accept-new -o ConnectTimeout=10 -o BatchMode=yes

# Terraform outputs, read when a recipe runs (not when make parses this file).
TF_OUT = terraform -chdir=$(TF_DIR) output -raw
SERVER_IP_CMD = $(TF_OUT) server_public_ip
SERVER_PRIVATE_IP_CMD = $(TF_OUT) server_private_ip
SSH_USER_CMD = $(TF_OUT) ssh_user
AGENT_IPS_CMD = terraform -chdir=$(TF_DIR) output -json agent_public_ips | tr -d '[]" \n' | tr ',' ' '

.PHONY: help build test test-quick run image push tf-init tf-plan tf-apply tf-destroy bootstrap-k3s join-workers \
        require-cluster bootstrap-monitoring-prereqs deploy-monitoring deploy verify undeploy

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

image: build ## Build the container image (IMAGE=repo:tag) from the jar
	docker build -t $(IMAGE) .

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

bootstrap-k3s: ## Install the K3s server over SSH and write ./kubeconfig (public IP)
	@ip=$$($(SERVER_IP_CMD)); user=$$($(SSH_USER_CMD)); \
	echo "installing K3s $(K3S_VERSION) on $$user@$$ip"; \
	until ssh $(SSH_OPTS) $$user@$$ip true 2>/dev/null; do echo "waiting for SSH on $$ip..."; sleep 5; done; \
	ssh $(SSH_OPTS) $$user@$$ip "curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION='$(K3S_VERSION)' sh -s - server --tls-san $$ip --write-kubeconfig-mode 0600"; \
	ssh $(SSH_OPTS) $$user@$$ip "sudo k3s kubectl wait --for=condition=Ready node --all --timeout=180s"; \
	ssh $(SSH_OPTS) $$user@$$ip "sudo cat /etc/rancher/k3s/k3s.yaml" | sed "s/127.0.0.1/$$ip/" > $(CURDIR)/kubeconfig; \
	chmod 600 $(CURDIR)/kubeconfig; \
	echo "wrote $(CURDIR)/kubeconfig (API server https://$$ip:6443); next: make join-workers"

join-workers: ## Join every agent to the K3s server over SSH
	@ip=$$($(SERVER_IP_CMD)); private=$$($(SERVER_PRIVATE_IP_CMD)); user=$$($(SSH_USER_CMD)); \
	agents="$$($(AGENT_IPS_CMD))"; \
	if [ -z "$$agents" ]; then echo "no agents (agent_count = 0)"; exit 0; fi; \
	token=$$(ssh $(SSH_OPTS) $$user@$$ip "sudo cat /var/lib/rancher/k3s/server/node-token"); \
	for agent in $$agents; do \
	  echo "joining $$agent to https://$$private:6443"; \
	  until ssh $(SSH_OPTS) $$user@$$agent true 2>/dev/null; do echo "waiting for SSH on $$agent..."; sleep 5; done; \
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

bootstrap-monitoring-prereqs: require-cluster ## Add Helm repos, ensure metrics-server, install KEDA
	helm repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update
	helm repo add grafana https://grafana.github.io/helm-charts --force-update
	helm repo add kedacore https://kedacore.github.io/charts --force-update
	helm repo add metrics-server https://kubernetes-sigs.github.io/metrics-server/ --force-update
	helm repo update
	@# K3s ships metrics-server; install it only where the metrics API is missing.
	@if kubectl get apiservice v1beta1.metrics.k8s.io >/dev/null 2>&1; then \
	  echo "metrics-server already serves the metrics API"; \
	else \
	  helm upgrade --install metrics-server metrics-server/metrics-server -n kube-system --wait; \
	fi
	helm upgrade --install keda kedacore/keda -n keda --create-namespace --wait

deploy-monitoring: require-cluster ## Install kube-prometheus-stack, Loki and Promtail (namespace monitoring)
	helm upgrade --install kube-prometheus-stack prometheus-community/kube-prometheus-stack \
	  -n $(MONITORING_NS) --create-namespace -f deploy/monitoring/kube-prometheus-stack-values.yaml --wait --timeout 10m
	helm upgrade --install loki grafana/loki \
	  -n $(MONITORING_NS) -f deploy/monitoring/loki-values.yaml --wait --timeout 10m
	helm upgrade --install promtail grafana/promtail \
	  -n $(MONITORING_NS) -f deploy/monitoring/promtail-values.yaml --wait
	@echo "Grafana: kubectl -n $(MONITORING_NS) port-forward svc/kube-prometheus-stack-grafana 3000:80"

deploy: require-cluster ## helm upgrade --install the chart (VALUES=file for extra values)
	helm upgrade --install $(RELEASE) $(CHART) -n $(NAMESPACE) --create-namespace \
	  --set image.repository=$(IMAGE_REPO) --set image.tag=$(IMAGE_TAG) \
	  $(if $(VALUES),-f $(VALUES)) $(HELM_ARGS) --wait --timeout 10m

verify: require-cluster ## Run `helm test` (the verify command inside the cluster)
	helm test $(RELEASE) -n $(NAMESPACE) --logs --timeout 5m

undeploy: require-cluster ## Uninstall the chart (PVCs of the in-chart Kafka/MongoDB are kept)
	helm uninstall $(RELEASE) -n $(NAMESPACE)
