{{/*
The five services: values key → name, and whether it keeps state in Redis.
*/}}
{{- define "vigil.services" -}}
ingest: { name: ingest, redis: false }
correlation: { name: correlation, redis: true }
siemForwarder: { name: siem-forwarder, redis: false }
alertRouter: { name: alert-router, redis: true }
soar: { name: soar, redis: true }
{{- end }}

{{- define "vigil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vigil.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of one component's objects: <fullname>-<service>, within 63 characters. */}}
{{- define "vigil.componentName" -}}
{{- printf "%s-%s" (include "vigil.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-") .component }}
{{- end }}

{{- define "vigil.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vigil.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vigil.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "vigil.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "vigil.selectorLabels" . }}
app.kubernetes.io/part-of: vigil
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "vigil.image" -}}
{{- $img := .Values.image }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag) }}
{{- end }}
{{- end }}

{{/*
Kafka settings every container that talks to Kafka gets (services and the topics Job), as a dict.
*/}}
{{- define "vigil.kafkaEnv" -}}
{{- $k := .Values.kafka }}
KAFKA_BROKERS: {{ $k.brokers | quote }}
KAFKA_CREATE_TOPICS: {{ eq $k.topics.management "services" | toString | quote }}
KAFKA_TOPIC_PARTITIONS: {{ $k.topics.partitions | toString | quote }}
KAFKA_TOPIC_REPLICATION: {{ $k.topics.replication | toString | quote }}
{{- with $k.topicNamespace }}
VIGIL_TOPIC_NAMESPACE: {{ . | quote }}
{{- end }}
{{- with $k.clientId }}
KAFKA_CLIENT_ID: {{ . | quote }}
{{- end }}
{{- if $k.tls.enabled }}
KAFKA_SSL: "true"
KAFKA_SSL_REJECT_UNAUTHORIZED: {{ $k.tls.rejectUnauthorized | toString | quote }}
{{- if $k.tls.existingSecret }}
KAFKA_SSL_CA_FILE: /etc/vigil/kafka-tls/ca.crt
{{- if $k.tls.certKey }}
KAFKA_SSL_CERT_FILE: /etc/vigil/kafka-tls/tls.crt
KAFKA_SSL_KEY_FILE: /etc/vigil/kafka-tls/tls.key
{{- end }}
{{- end }}
{{- end }}
{{- if $k.sasl.mechanism }}
KAFKA_SASL_MECHANISM: {{ $k.sasl.mechanism | quote }}
KAFKA_SASL_USERNAME: {{ $k.sasl.username | quote }}
KAFKA_SASL_PASSWORD_FILE: /etc/vigil/secrets/KAFKA_SASL_PASSWORD
{{- end }}
{{- end }}

{{- define "vigil.redisEnv" -}}
{{- $r := .Values.redis }}
REDIS_URL: {{ $r.url | quote }}
REDIS_KEY_PREFIX: {{ $r.keyPrefix | quote }}
{{- if $r.existingSecret }}
REDIS_PASSWORD_FILE: /etc/vigil/secrets/REDIS_PASSWORD
{{- end }}
{{- if $r.tls.caSecret }}
REDIS_TLS_CA_FILE: /etc/vigil/redis-tls/ca.crt
{{- end }}
REDIS_TLS_REJECT_UNAUTHORIZED: {{ $r.tls.rejectUnauthorized | toString | quote }}
{{- end }}

{{/*
Secret references for one container: VAR → {secretName, key}, Kafka and Redis passwords included.
Each becomes /etc/vigil/secrets/VAR (and VAR_FILE in the environment).
*/}}
{{- define "vigil.secretRefs" -}}
{{- $root := .root }}
{{- $refs := dict }}
{{- if $root.Values.kafka.sasl.mechanism }}
{{- $secret := required "kafka.sasl.existingSecret is required when kafka.sasl.mechanism is set (the password is never a value)" $root.Values.kafka.sasl.existingSecret }}
{{- $_ := set $refs "KAFKA_SASL_PASSWORD" (dict "secretName" $secret "key" $root.Values.kafka.sasl.passwordKey) }}
{{- end }}
{{- if and .redis $root.Values.redis.existingSecret }}
{{- $_ := set $refs "REDIS_PASSWORD" (dict "secretName" $root.Values.redis.existingSecret "key" $root.Values.redis.passwordKey) }}
{{- end }}
{{- range $var, $ref := .secretEnv }}
{{- $_ := set $refs $var $ref }}
{{- end }}
{{- toYaml $refs }}
{{- end }}

{{/* The projected volume holding every secret reference of a container. */}}
{{- define "vigil.secretsVolume" -}}
{{- if .refs }}
- name: secrets
  projected:
    # 0440: readable by the pod's group (fsGroup), never writable.
    defaultMode: 288
    sources:
    {{- range $var := keys .refs | sortAlpha }}
    {{- $ref := get $.refs $var }}
      - secret:
          name: {{ required (printf "secretName is required for %s" $var) $ref.secretName | quote }}
          items:
            - key: {{ required (printf "key is required for %s" $var) $ref.key | quote }}
              path: {{ $var }}
    {{- end }}
{{- end }}
{{- if and .root.Values.kafka.tls.enabled .root.Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .root.Values.kafka.tls.existingSecret | quote }}
    defaultMode: 288
    items:
      - key: {{ .root.Values.kafka.tls.caKey | quote }}
        path: ca.crt
      {{- if .root.Values.kafka.tls.certKey }}
      - key: {{ .root.Values.kafka.tls.certKey | quote }}
        path: tls.crt
      - key: {{ required "kafka.tls.keyKey is required with kafka.tls.certKey" .root.Values.kafka.tls.keyKey | quote }}
        path: tls.key
      {{- end }}
{{- end }}
{{- if and .redis .root.Values.redis.tls.caSecret }}
- name: redis-tls
  secret:
    secretName: {{ .root.Values.redis.tls.caSecret | quote }}
    defaultMode: 288
    items:
      - key: {{ .root.Values.redis.tls.caKey | quote }}
        path: ca.crt
{{- end }}
{{- end }}

{{- define "vigil.secretsMounts" -}}
{{- if .refs }}
- name: secrets
  mountPath: /etc/vigil/secrets
  readOnly: true
{{- end }}
{{- if and .root.Values.kafka.tls.enabled .root.Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: /etc/vigil/kafka-tls
  readOnly: true
{{- end }}
{{- if and .redis .root.Values.redis.tls.caSecret }}
- name: redis-tls
  mountPath: /etc/vigil/redis-tls
  readOnly: true
{{- end }}
{{- end }}

{{/* Renders a VAR: value dict as a container env list, sorted by name. */}}
{{- define "vigil.envList" -}}
{{- range $k := keys . | sortAlpha }}
- name: {{ $k }}
  value: {{ get $ $k | toString | quote }}
{{- end }}
{{- end }}

{{/* Checks that make a wrong combination fail at install instead of at the pod's start. */}}
{{- define "vigil.validate" -}}
{{- $k := .Values.kafka }}
{{- if and $k.sasl.mechanism (not $k.sasl.existingSecret) }}
{{- fail "kafka.sasl.existingSecret is required when kafka.sasl.mechanism is set (the password is never a value)" }}
{{- end }}
{{- if and $k.sasl.mechanism (not $k.sasl.username) }}
{{- fail "kafka.sasl.username is required when kafka.sasl.mechanism is set" }}
{{- end }}
{{- if and .Values.redis.tls.caSecret (not (hasPrefix "rediss://" .Values.redis.url)) }}
{{- fail "redis.tls.caSecret needs a rediss:// redis.url" }}
{{- end }}
{{- if and .Values.siemForwarder.enabled (not (get (mergeOverwrite (deepCopy .Values.common.env) .Values.siemForwarder.env) "SIEM_SINKS")) }}
{{- fail "siemForwarder.env.SIEM_SINKS is required (splunk, elasticsearch and/or sentinel)" }}
{{- end }}
{{- end }}
