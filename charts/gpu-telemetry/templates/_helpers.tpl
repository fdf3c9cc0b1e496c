{{/* Chart name, overridable. */}}
{{- define "gpu-telemetry.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: release-chart, or the release name alone when it already contains the
chart name. Kept to 52 characters so that suffixes (-processor, -kafka-headless) stay under 63.
*/}}
{{- define "gpu-telemetry.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gpu-telemetry.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "gpu-telemetry.labels" -}}
helm.sh/chart: {{ include "gpu-telemetry.chart" . }}
{{ include "gpu-telemetry.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gpu-telemetry
{{- end }}

{{/* Labels selecting the release's pods (add app.kubernetes.io/component for one role). */}}
{{- define "gpu-telemetry.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gpu-telemetry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component; call with (dict "ctx" $ "component" "producer"). */}}
{{- define "gpu-telemetry.componentLabels" -}}
{{ include "gpu-telemetry.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "gpu-telemetry.componentSelectorLabels" -}}
{{ include "gpu-telemetry.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "gpu-telemetry.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gpu-telemetry.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gpu-telemetry.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The environment variable of a setting key: GPUTEL_ + upper-cased key, '.' and '-' as '_'. */}}
{{- define "gpu-telemetry.envName" -}}
{{- if hasPrefix "GPUTEL_" . }}
{{- . }}
{{- else }}
{{- printf "GPUTEL_%s" (. | upper | replace "." "_" | replace "-" "_") }}
{{- end }}
{{- end }}

{{/* In-chart Kafka and MongoDB names and addresses. */}}
{{- define "gpu-telemetry.kafka.fullname" -}}
{{- printf "%s-kafka" (include "gpu-telemetry.fullname" .) }}
{{- end }}

{{- define "gpu-telemetry.kafka.headless" -}}
{{- printf "%s-kafka-headless" (include "gpu-telemetry.fullname" .) }}
{{- end }}

{{- define "gpu-telemetry.kafka.podHost" -}}
{{- printf "%s-0.%s.%s.svc.cluster.local" (include "gpu-telemetry.kafka.fullname" .) (include "gpu-telemetry.kafka.headless" .) (include "gpu-telemetry.namespace" .) }}
{{- end }}

{{- define "gpu-telemetry.mongodb.fullname" -}}
{{- printf "%s-mongodb" (include "gpu-telemetry.fullname" .) }}
{{- end }}

{{- define "gpu-telemetry.mongodb.headless" -}}
{{- printf "%s-mongodb-headless" (include "gpu-telemetry.fullname" .) }}
{{- end }}

{{- define "gpu-telemetry.mongodb.podHost" -}}
{{- printf "%s-0.%s.%s.svc.cluster.local" (include "gpu-telemetry.mongodb.fullname" .) (include "gpu-telemetry.mongodb.headless" .) (include "gpu-telemetry.namespace" .) }}
{{- end }}

{{- define "gpu-telemetry.kafka.bootstrapServers" -}}
{{- if .Values.kafka.enabled }}
{{- printf "%s:9092" (include "gpu-telemetry.kafka.podHost" .) }}
{{- else }}
{{- required "kafka.bootstrapServers is required when kafka.enabled is false" .Values.kafka.bootstrapServers }}
{{- end }}
{{- end }}

{{- define "gpu-telemetry.mongodb.inChartConnectionString" -}}
{{- printf "mongodb://%s:27017/?replicaSet=%s&w=majority&retryWrites=true" (include "gpu-telemetry.mongodb.podHost" .) .Values.mongodb.replicaSetName }}
{{- end }}

{{/*
Checks that must fail the render with a clear message rather than deploy something that
cannot work.
*/}}
{{- define "gpu-telemetry.validate" -}}
{{- $partitions := int .Values.kafka.topicPartitions }}
{{- $p := .Values.roles.processor }}
{{- if $p.enabled }}
{{- if $p.autoscaling.enabled }}
{{- if gt (int $p.autoscaling.maxReplicas) $partitions }}
{{- fail (printf "roles.processor.autoscaling.maxReplicas (%d) exceeds kafka.topicPartitions (%d): a consumer group cannot use more processors than partitions; raise kafka.topicPartitions or lower maxReplicas" (int $p.autoscaling.maxReplicas) $partitions) }}
{{- end }}
{{- else if gt (int $p.replicaCount) $partitions }}
{{- fail (printf "roles.processor.replicaCount (%d) exceeds kafka.topicPartitions (%d): the extra processors would sit idle" (int $p.replicaCount) $partitions) }}
{{- end }}
{{- end }}
{{- range $role, $r := .Values.roles }}
{{- if and $r.autoscaling.enabled (gt (int $r.autoscaling.minReplicas) (int $r.autoscaling.maxReplicas)) }}
{{- fail (printf "roles.%s.autoscaling.minReplicas (%d) exceeds maxReplicas (%d)" $role (int $r.autoscaling.minReplicas) (int $r.autoscaling.maxReplicas)) }}
{{- end }}
{{- if and (hasKey $r.podDisruptionBudget "minAvailable") (hasKey $r.podDisruptionBudget "maxUnavailable") }}
{{- fail (printf "roles.%s.podDisruptionBudget: set minAvailable or maxUnavailable, not both" $role) }}
{{- end }}
{{- end }}
{{- if and .Values.kafka.enabled (gt (int .Values.kafka.topicReplicationFactor) 1) }}
{{- fail "kafka.topicReplicationFactor must be 1 with the in-chart single-node broker (kafka.enabled)" }}
{{- end }}
{{- if and (not .Values.mongodb.enabled) (not .Values.mongodb.connectionStringSecret.name) }}
{{- fail "mongodb.connectionStringSecret.name is required when mongodb.enabled is false (the connection string comes from an existing Secret)" }}
{{- end }}
{{- if and .Values.kafka.security.saslMechanism (not .Values.kafka.security.jaasConfigSecret.name) }}
{{- fail "kafka.security.jaasConfigSecret.name is required when kafka.security.saslMechanism is set" }}
{{- end }}
{{- if and .Values.kafka.tls.enabled (has .Values.kafka.security.protocol (list "PLAINTEXT" "SASL_PLAINTEXT")) }}
{{- fail (printf "kafka.tls.enabled contradicts kafka.security.protocol %s: use SSL or SASL_SSL (or leave it empty)" .Values.kafka.security.protocol) }}
{{- end }}
{{- if and .Values.kafka.tls.enabled .Values.kafka.enabled }}
{{- fail "kafka.tls.enabled is for external brokers; the in-chart dev broker (kafka.enabled) is plaintext" }}
{{- end }}
{{- range $role, $r := .Values.roles }}
{{- if and $r.enabled $r.autoscaling.enabled (eq (int $r.autoscaling.minReplicas) 0) }}
{{- if not (and (eq $role "processor") (include "gpu-telemetry.kedaScales" $)) }}
{{- fail (printf "roles.%s.autoscaling.minReplicas 0 (scale to zero) needs KEDA: only the processor with keda.enabled (and the KEDA API installed) scales to zero; an HPA needs at least 1" $role) }}
{{- end }}
{{- end }}
{{- /* preStop sleep, then the HTTP drain (10 s in the application), then (processor) the batch in flight. */}}
{{- $needed := add (int $r.preStopSleepSeconds) 10 (ternary 20 0 (eq $role "processor")) }}
{{- if and $r.enabled (le (int $r.terminationGracePeriodSeconds) $needed) }}
{{- fail (printf "roles.%s.terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds (%d) + the 10 s HTTP drain%s = %d, or Kubernetes kills the pod mid-drain" $role (int $r.terminationGracePeriodSeconds) (int $r.preStopSleepSeconds) (ternary " + processor.shutdown-timeout (20 s)" "" (eq $role "processor")) $needed) }}
{{- end }}
{{- end }}
{{- if and .Values.ingress.enabled (not (or .Values.ingress.hosts.ingest .Values.ingress.hosts.console)) }}
{{- fail "ingress.enabled needs ingress.hosts.ingest and/or ingress.hosts.console" }}
{{- end }}
{{- if and .Values.httpRoute.enabled (not .Values.httpRoute.parentRefs) }}
{{- fail "httpRoute.enabled needs httpRoute.parentRefs (the Gateway to attach to)" }}
{{- end }}
{{- end }}

{{/*
Whether an API (group/version/Kind) is installed: what the cluster reports, or declared in
capabilities.apiVersions (as group/version or group/version/Kind) for rendering without a cluster.
Call with (dict "ctx" $ "api" "keda.sh/v1alpha1/ScaledObject"); "true" or "".
*/}}
{{- define "gpu-telemetry.hasApi" -}}
{{- $groupVersion := regexReplaceAll "/[^/]+$" .api "" }}
{{- $declared := .ctx.Values.capabilities.apiVersions | default list }}
{{- if or (.ctx.Capabilities.APIVersions.Has .api) (has .api $declared) (has $groupVersion $declared) }}true{{ end }}
{{- end }}

{{/* Whether KEDA scales the processor: keda.enabled, the processor autoscaled, and KEDA's API installed. */}}
{{- define "gpu-telemetry.kedaScales" -}}
{{- $p := .Values.roles.processor }}
{{- if and .Values.keda.enabled $p.enabled $p.autoscaling.enabled (include "gpu-telemetry.hasApi" (dict "ctx" . "api" "keda.sh/v1alpha1/ScaledObject")) }}true{{ end }}
{{- end }}

{{/* The TriggerAuthentication the ScaledObject uses: keda.authenticationRef, or the chart's when SASL or TLS needs one. */}}
{{- define "gpu-telemetry.kedaAuthName" -}}
{{- if .Values.keda.authenticationRef }}
{{- .Values.keda.authenticationRef }}
{{- else if or .Values.kafka.security.saslMechanism (and .Values.kafka.tls.enabled (or .Values.kafka.tls.caSecret.name .Values.kafka.tls.clientSecret.name)) }}
{{- printf "%s-kafka" (include "gpu-telemetry.fullname" .) }}
{{- end }}
{{- end }}

{{/* KEDA's name of the SASL mechanism. */}}
{{- define "gpu-telemetry.kedaSasl" -}}
{{- $m := .Values.kafka.security.saslMechanism }}
{{- if $m }}
{{- get (dict "PLAIN" "plaintext" "SCRAM-SHA-256" "scram_sha256" "SCRAM-SHA-512" "scram_sha512") $m }}
{{- end }}
{{- end }}

{{/* Whether the Kafka clients use TLS. */}}
{{- define "gpu-telemetry.kafkaTls" -}}
{{- if or .Values.kafka.tls.enabled (has .Values.kafka.security.protocol (list "SSL" "SASL_SSL")) }}true{{ end }}
{{- end }}

{{/* Where the brokers' CA bundle is mounted. */}}
{{- define "gpu-telemetry.kafkaCaPath" -}}
/etc/gpu-telemetry/kafka-ca/ca.crt
{{- end }}

{{- define "gpu-telemetry.kafkaTlsVolumeMounts" -}}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/gpu-telemetry/kafka-ca
  readOnly: true
{{- end }}
{{- end }}

{{- define "gpu-telemetry.kafkaTlsVolumes" -}}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret.name }}
    items:
      - key: {{ .Values.kafka.tls.caSecret.key }}
        path: ca.crt
{{- end }}
{{- end }}

{{/* Environment variables taken from existing Secrets (never values in clear). */}}
{{- define "gpu-telemetry.mongoEnv" -}}
{{- if not .Values.mongodb.enabled }}
- name: GPUTEL_MONGO_CONNECTION_STRING
  valueFrom:
    secretKeyRef:
      name: {{ .Values.mongodb.connectionStringSecret.name }}
      key: {{ .Values.mongodb.connectionStringSecret.key }}
{{- end }}
{{- end }}

{{- define "gpu-telemetry.kafkaEnv" -}}
{{- if .Values.kafka.security.jaasConfigSecret.name }}
- name: GPUTEL_KAFKA_CLIENT_SASL_JAAS_CONFIG
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.security.jaasConfigSecret.name }}
      key: {{ .Values.kafka.security.jaasConfigSecret.key }}
{{- end }}
{{- with .Values.kafka.tls.clientSecret }}
{{- if and $.Values.kafka.tls.enabled .name }}
{{- /* Mutual TLS: the PEM chain and PKCS#8 key as Kafka's ssl.keystore.certificate.chain / ssl.keystore.key. */}}
- name: GPUTEL_KAFKA_CLIENT_SSL_KEYSTORE_CERTIFICATE_CHAIN
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .certKey }}
- name: GPUTEL_KAFKA_CLIENT_SSL_KEYSTORE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .keyKey }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gpu-telemetry.apiKeysEnv" -}}
{{- if .Values.ingest.apiKeysSecret.name }}
- name: GPUTEL_INGEST_API_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.ingest.apiKeysSecret.name }}
      key: {{ .Values.ingest.apiKeysSecret.key }}
{{- end }}
{{- end }}

{{- define "gpu-telemetry.authEnv" -}}
{{- if .Values.auth.keysSecret.name }}
- name: GPUTEL_AUTH_KEYS_FILE
  value: /etc/gpu-telemetry/keys/{{ .Values.auth.keysSecret.key }}
{{- end }}
{{- if .Values.auth.anonymousScopes }}
- name: GPUTEL_AUTH_ANONYMOUS_SCOPES
  value: {{ .Values.auth.anonymousScopes | quote }}
{{- end }}
{{- end }}

{{/* The settings that point at the accounting files given inline, where they are mounted. */}}
{{- define "gpu-telemetry.accountingEnv" -}}
{{- with .Values.accountingFiles }}
{{- if .priceBook }}
- name: GPUTEL_PRICING_PRICE_BOOK
  value: /etc/gpu-telemetry/accounting/price-book.json
{{- end }}
{{- if .gpuProfiles }}
- name: GPUTEL_ACCOUNTING_GPU_PROFILES
  value: /etc/gpu-telemetry/accounting/gpu-profiles.json
{{- end }}
{{- if .budgets }}
- name: GPUTEL_BUDGETS_FILE
  value: /etc/gpu-telemetry/accounting/budgets.json
{{- end }}
{{- end }}
{{- end }}

{{- define "gpu-telemetry.accountingFilesGiven" -}}
{{- with .Values.accountingFiles }}{{ if or .priceBook .gpuProfiles .budgets }}true{{ end }}{{ end }}
{{- end }}

{{- define "gpu-telemetry.javaEnv" -}}
{{- if .Values.javaOpts }}
- name: JAVA_TOOL_OPTIONS
  value: {{ .Values.javaOpts | quote }}
{{- end }}
{{- end }}

{{/*
The env list of a container; call with (dict "ctx" $ "role" "producer"|"processor"|"verify" "extra" list).
The producer only talks to Kafka (and takes the ingest keys); the processor and verify also to MongoDB.
*/}}
{{- define "gpu-telemetry.containerEnv" -}}
{{- $ctx := .ctx }}
{{- if ne .role "producer" }}
{{- include "gpu-telemetry.mongoEnv" $ctx }}
{{- end }}
{{- include "gpu-telemetry.kafkaEnv" $ctx }}
{{- if eq .role "producer" }}
{{- include "gpu-telemetry.apiKeysEnv" $ctx }}
{{- end }}
{{- include "gpu-telemetry.authEnv" $ctx }}
{{- if ne .role "verify" }}
{{- include "gpu-telemetry.accountingEnv" $ctx }}
{{- end }}
{{- include "gpu-telemetry.javaEnv" $ctx }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Shared pod-level pieces. */}}
{{- define "gpu-telemetry.tmpVolume" -}}
- name: tmp
  emptyDir:
    {{- if .Values.tmpVolume.sizeLimit }}
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
    {{- else }} {}
    {{- end }}
{{- end }}

{{/* The release namespace ("default" when rendered without one). */}}
{{- define "gpu-telemetry.namespace" -}}
{{- default "default" .Release.Namespace }}
{{- end }}
