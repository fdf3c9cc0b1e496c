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
{{- if and .Values.kafka.security.saslMechanism (not .Values.kafka.security.jaasConfigSecret.name) (ne .Values.kafka.security.saslMechanism "AWS_MSK_IAM") }}
{{- fail "kafka.security.jaasConfigSecret.name is required when kafka.security.saslMechanism is set" }}
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
