{{/* Chart name, truncated to a DNS label. */}}
{{- define "dti.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object name: the release name, plus the chart name unless it is in it. */}}
{{- define "dti.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* `helm.sh/chart` label value. */}}
{{- define "dti.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "dti.labels" -}}
helm.sh/chart: {{ include "dti.chart" . }}
app.kubernetes.io/name: {{ include "dti.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dti-platform
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one service; call with (dict "root" $ "name" $name). */}}
{{- define "dti.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dti.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* Labels of one service's objects; call with (dict "root" $ "name" $name). */}}
{{- define "dti.serviceLabels" -}}
{{ include "dti.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* Object name of one service; call with (dict "root" $ "name" $name). */}}
{{- define "dti.serviceName" -}}
{{- printf "%s-%s" (include "dti.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Headless Service name of one service (at most 63 characters). */}}
{{- define "dti.headlessName" -}}
{{- printf "%s-headless" (include "dti.serviceName" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}

{{/* DTI_<SERVICE>_ environment prefix of a service name (national-sync → DTI_NATIONAL_SYNC_). */}}
{{- define "dti.envPrefix" -}}
{{- printf "DTI_%s_" (. | upper | replace "-" "_") -}}
{{- end -}}

{{/* The image reference. */}}
{{- define "dti.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Secret-sourced variables that other values refer to as $(NAME); names outside every
     service's DTI_<SERVICE>_ prefix, because a service refuses unknown variables of its prefix. */}}
{{- define "dti.secretEnv" -}}
{{- $v := .Values -}}
{{- if and $v.nats.existingSecret (not $v.nats.urlKey) $v.nats.userKey }}
- name: NATS_USER
  valueFrom: { secretKeyRef: { name: {{ $v.nats.existingSecret | quote }}, key: {{ $v.nats.userKey | quote }} } }
- name: NATS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $v.nats.existingSecret | quote }}, key: {{ $v.nats.passwordKey | quote }} } }
{{- end }}
{{- if and $v.redis.existingSecret (not $v.redis.urlKey) $v.redis.passwordKey }}
- name: REDIS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $v.redis.existingSecret | quote }}, key: {{ $v.redis.passwordKey | quote }} } }
{{- end }}
{{- end -}}

{{/* A URL list (comma-separated) with `userinfo@` put after each URL's scheme. */}}
{{- define "dti.urlWithUserinfo" -}}
{{- $out := list -}}
{{- range $url := splitList "," .url -}}
{{- $parts := splitList "://" (trim $url) -}}
{{- if ne (len $parts) 2 -}}
{{- fail (printf "the URL %q has no scheme (e.g. nats://host:4222)" $url) -}}
{{- end -}}
{{- $out = append $out (printf "%s://%s@%s" (index $parts 0) $.userinfo (index $parts 1)) -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/* The environment every service shares; call with (dict "root" $ "name" $name). */}}
{{- define "dti.sharedEnv" -}}
{{- $v := .root.Values -}}
{{- $p := include "dti.envPrefix" .name -}}
{{- include "dti.secretEnv" .root }}
- name: {{ $p }}DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ $v.database.existingSecret | quote }}, key: {{ $v.database.urlKey | quote }} } }
{{- if $v.database.maxConnections }}
- name: {{ $p }}DATABASE_MAX_CONNECTIONS
  value: {{ include "dti.scalar" $v.database.maxConnections }}
{{- end }}
{{- if and $v.nats.existingSecret $v.nats.urlKey }}
- name: {{ $p }}NATS_URL
  valueFrom: { secretKeyRef: { name: {{ $v.nats.existingSecret | quote }}, key: {{ $v.nats.urlKey | quote }} } }
{{- else if and $v.nats.existingSecret $v.nats.userKey }}
- name: {{ $p }}NATS_URL
  value: {{ include "dti.urlWithUserinfo" (dict "url" $v.nats.url "userinfo" "$(NATS_USER):$(NATS_PASSWORD)") | quote }}
{{- else }}
- name: {{ $p }}NATS_URL
  value: {{ $v.nats.url | quote }}
{{- end }}
- name: {{ $p }}NATS_PREFIX
  value: {{ $v.nats.prefix | quote }}
- name: {{ $p }}NATS_INBOX_RETENTION_SECS
  value: {{ include "dti.scalar" $v.nats.inboxRetentionSecs }}
- name: {{ $p }}NATS_STREAM_MAX_AGE_SECS
  value: {{ include "dti.scalar" $v.nats.streamMaxAgeSecs }}
- name: {{ $p }}NATS_STREAM_MAX_BYTES
  value: {{ include "dti.scalar" $v.nats.streamMaxBytes }}
- name: {{ $p }}NATS_STREAM_REPLICAS
  value: {{ include "dti.scalar" $v.nats.streamReplicas }}
{{- if and $v.redis.existingSecret $v.redis.urlKey }}
- name: {{ $p }}REDIS_URL
  valueFrom: { secretKeyRef: { name: {{ $v.redis.existingSecret | quote }}, key: {{ $v.redis.urlKey | quote }} } }
{{- else if and $v.redis.existingSecret $v.redis.passwordKey }}
- name: {{ $p }}REDIS_URL
  value: {{ include "dti.urlWithUserinfo" (dict "url" $v.redis.url "userinfo" ":$(REDIS_PASSWORD)") | quote }}
{{- else if $v.redis.url }}
- name: {{ $p }}REDIS_URL
  value: {{ $v.redis.url | quote }}
{{- end }}
- name: {{ $p }}REDIS_KEY_PREFIX
  value: {{ printf "%s%s:" $v.redis.keyPrefix .name | quote }}
- name: {{ $p }}GRPC_LISTEN_ADDR
  value: "0.0.0.0:{{ $v.ports.grpc }}"
- name: {{ $p }}GRPC_REFLECTION
  value: {{ $v.grpcReflection | quote }}
- name: {{ $p }}METRICS_LISTEN_ADDR
  value: "0.0.0.0:{{ $v.ports.metrics }}"
{{- if include "dti.grpcTls" .root }}
- name: {{ $p }}GRPC__TLS__CERT_PATH
  value: /etc/dti/tls/tls.crt
- name: {{ $p }}GRPC__TLS__KEY_PATH
  value: /etc/dti/tls/tls.key
{{- end }}
{{- if include "dti.metricsTls" .root }}
- name: {{ $p }}METRICS__TLS__CERT_PATH
  value: /etc/dti/tls/tls.crt
- name: {{ $p }}METRICS__TLS__KEY_PATH
  value: /etc/dti/tls/tls.key
{{- end }}
{{- range $backing := list "database" "nats" "redis" }}
{{- with index $v $backing }}
{{- if .tlsCaSecret }}
- name: {{ $p }}{{ $backing | upper }}_TLS_CA_FILE
  value: /etc/dti/{{ $backing }}-ca/{{ .tlsCaKey }}
{{- end }}
{{- end }}
{{- end }}
- name: {{ $p }}TELEMETRY_LOG_FORMAT
  value: {{ $v.telemetry.logFormat | quote }}
- name: {{ $p }}TELEMETRY_LOG_FILTER
  value: {{ $v.telemetry.logFilter | quote }}
{{- if $v.telemetry.otlpEndpoint }}
- name: {{ $p }}TELEMETRY_OTLP_ENDPOINT
  value: {{ $v.telemetry.otlpEndpoint | quote }}
{{- end }}
{{- if not (and (eq $v.auth.algorithm "oidc") $v.auth.oidc.issuerUrl) }}
- name: {{ $p }}AUTH_ISSUER
  value: {{ $v.auth.issuer | quote }}
{{- end }}
- name: {{ $p }}AUTH_AUDIENCE
  value: {{ $v.auth.audience | quote }}
{{- if $v.tenant }}
- name: {{ $p }}AUTH_TENANT
  value: {{ $v.tenant | quote }}
- name: {{ $p }}AUTH_TENANT_CLAIM
  value: {{ $v.auth.tenantClaim | quote }}
{{- end }}
{{- if eq $v.auth.algorithm "hs256" }}
- name: {{ $p }}AUTH_HS256_SECRET
  valueFrom: { secretKeyRef: { name: {{ $v.auth.existingSecret | quote }}, key: {{ $v.auth.hs256SecretKey | quote }} } }
{{- else if eq $v.auth.algorithm "oidc" }}
{{- include "dti.oidcEnv" (dict "oidc" $v.auth.oidc "prefix" $p) }}
{{- else }}
- name: {{ $p }}AUTH_RS256_PUBLIC_KEY_PEM_PATH
  value: /etc/dti/auth/{{ $v.auth.rs256PublicKeyKey }}
{{- end }}
{{- end -}}

{{/* The environment of the city's identity provider (auth.algorithm oidc); call with
(dict "oidc" .Values.auth.oidc "prefix" $p). The role map is one figment dict value,
`{"provider-role"="dti_role", …}`. */}}
{{- define "dti.oidcEnv" -}}
{{- $o := .oidc -}}
{{- $p := .prefix -}}
{{- if $o.issuerUrl }}
- name: {{ $p }}AUTH_OIDC_ISSUER_URL
  value: {{ $o.issuerUrl | quote }}
{{- else }}
- name: {{ $p }}AUTH_JWKS_URL
  value: {{ $o.jwksUrl | quote }}
{{- end }}
- name: {{ $p }}AUTH_JWKS_REFRESH_SECS
  value: {{ $o.refreshSecs | int64 | quote }}
- name: {{ $p }}AUTH_JWKS_MIN_REFETCH_SECS
  value: {{ $o.minRefetchSecs | int64 | quote }}
- name: {{ $p }}AUTH_ALLOWED_ALGORITHMS
  value: {{ printf "[%s]" (join ", " $o.allowedAlgorithms) | quote }}
- name: {{ $p }}AUTH_ROLE_CLAIM
  value: {{ $o.roleClaim | quote }}
- name: {{ $p }}AUTH_UNIT_CLAIM
  value: {{ $o.unitClaim | quote }}
- name: {{ $p }}AUTH_DEPARTMENT_CLAIM
  value: {{ $o.departmentClaim | quote }}
{{- if $o.roleMap }}
{{- $pairs := list }}
{{- range $name, $role := $o.roleMap }}
{{- $pairs = append $pairs (printf "%s=%s" (toJson $name) (toJson $role)) }}
{{- end }}
- name: {{ $p }}AUTH_ROLE_MAP
  value: {{ printf "{%s}" (join ", " $pairs) | quote }}
{{- end }}
{{- end -}}

{{/* The environment of one service's own settings; call with (dict "root" $ "name" $name). */}}
{{- define "dti.ownEnv" -}}
{{- $v := .root.Values -}}
{{- $p := include "dti.envPrefix" .name -}}
{{- if eq .name "evidence" }}
{{- $s := $v.evidence.storage }}
- name: {{ $p }}SERVICE__STORAGE__BACKEND
  value: {{ $s.backend | quote }}
{{- if eq $s.backend "s3" }}
- name: {{ $p }}SERVICE__STORAGE__S3__BUCKET
  value: {{ required "evidence.storage.s3.bucket is required with the s3 backend" $s.s3.bucket | quote }}
- name: {{ $p }}SERVICE__STORAGE__S3__REGION
  value: {{ $s.s3.region | quote }}
{{- if $s.s3.endpoint }}
- name: {{ $p }}SERVICE__STORAGE__S3__ENDPOINT
  value: {{ $s.s3.endpoint | quote }}
{{- end }}
- name: {{ $p }}SERVICE__STORAGE__S3__ALLOW_HTTP
  value: {{ $s.s3.allowHttp | quote }}
- name: {{ $p }}SERVICE__STORAGE__S3__VIRTUAL_HOSTED_STYLE
  value: {{ $s.s3.virtualHostedStyle | quote }}
{{- if $s.s3.existingSecret }}
- name: {{ $p }}SERVICE__STORAGE__S3__ACCESS_KEY_ID
  valueFrom: { secretKeyRef: { name: {{ $s.s3.existingSecret | quote }}, key: {{ $s.s3.accessKeyIdKey | quote }} } }
- name: {{ $p }}SERVICE__STORAGE__S3__SECRET_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ $s.s3.existingSecret | quote }}, key: {{ $s.s3.secretAccessKeyKey | quote }} } }
{{- end }}
{{- else }}
- name: {{ $p }}SERVICE__STORAGE__ROOT
  value: {{ $s.local.root | quote }}
{{- end }}
{{- end }}
{{- if eq .name "national-sync" }}
{{- $n := $v.national }}
{{- if $n.endpoint }}
- name: {{ $p }}SERVICE__NATIONAL__ENDPOINT
  value: {{ $n.endpoint | quote }}
{{- end }}
- name: {{ $p }}SERVICE__NATIONAL__PROVINCE_CODE
  value: {{ $n.provinceCode | quote }}
{{- if $n.existingSecret }}
- name: {{ $p }}SERVICE__NATIONAL__API_TOKEN
  valueFrom: { secretKeyRef: { name: {{ $n.existingSecret | quote }}, key: {{ $n.apiTokenKey | quote }} } }
{{- end }}
{{- if $n.caSecret }}
- name: {{ $p }}SERVICE__NATIONAL__CA_FILE
  value: /etc/dti/national-ca/{{ $n.caKey }}
{{- end }}
{{- end }}
{{- if eq .name "gateway" }}
- name: {{ $p }}SERVICE__HTTP_LISTEN_ADDR
  value: "0.0.0.0:{{ $v.ports.http }}"
{{- range $backend := list "submission" "evidence" "scoring" "ranking" "verification" "national-sync" }}
- name: {{ $p }}SERVICE__BACKENDS__{{ $backend | upper | replace "-" "_" }}
  value: "{{ include "dti.grpcScheme" $.root }}://{{ include "dti.serviceName" (dict "root" $.root "name" $backend) }}:{{ $v.ports.grpc }}"
{{- end }}
{{- if include "dti.grpcTls" .root }}
- name: {{ $p }}SERVICE__BACKENDS_CA_FILE
  value: /etc/dti/tls/ca.crt
{{- end }}
{{- include "dti.httpTlsEnv" (dict "root" .root "prefix" $p) }}
{{- end }}
{{- if eq .name "results-site" }}
- name: {{ $p }}SERVICE__HTTP_LISTEN_ADDR
  value: "0.0.0.0:{{ $v.ports.http }}"
- name: {{ $p }}SERVICE__VERIFICATION_ENDPOINT
  value: "{{ include "dti.grpcScheme" $.root }}://{{ include "dti.serviceName" (dict "root" $.root "name" "verification") }}:{{ $v.ports.grpc }}"
{{- if include "dti.grpcTls" .root }}
- name: {{ $p }}SERVICE__VERIFICATION_CA_FILE
  value: /etc/dti/tls/ca.crt
{{- end }}
- name: {{ $p }}SERVICE__SUBMISSION_ENDPOINT
  value: "{{ include "dti.grpcScheme" $.root }}://{{ include "dti.serviceName" (dict "root" $.root "name" "submission") }}:{{ $v.ports.grpc }}"
{{- if include "dti.grpcTls" .root }}
- name: {{ $p }}SERVICE__SUBMISSION_CA_FILE
  value: /etc/dti/tls/ca.crt
{{- end }}
{{- include "dti.httpTlsEnv" (dict "root" .root "prefix" $p) }}
{{- if $v.resultsSite.signingKeySecret }}
- name: {{ $p }}SERVICE__SIGNING_KEY_PATH
  value: /etc/dti/results-signing-key/{{ $v.resultsSite.signingKeyKey }}
{{- end }}
{{- end }}
{{- $svc := index $v.services .name }}
{{- range $key, $value := $svc.settings }}
- name: {{ $p }}SERVICE__{{ $key | upper | replace "." "__" }}
  value: {{ include "dti.scalar" $value }}
{{- end }}
{{- end -}}

{{/* The pod-level fields the service pods, the migration Job and the test pod share. */}}
{{- define "dti.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* "true" when at least one service is enabled, else empty. */}}
{{- define "dti.anyServiceEnabled" -}}
{{- range $name, $svc := .Values.services }}{{ if $svc.enabled }}true{{ end }}{{ end -}}
{{- end -}}

{{/* A scalar as an env value: whole numbers without an exponent (YAML numbers reach the
     templates as floats, which print 52428800 as 5.24288e+07). */}}
{{- define "dti.scalar" -}}
{{- if and (kindIs "float64" .) (eq . (floor .)) -}}
{{- int64 . | toString | quote -}}
{{- else -}}
{{- toString . | quote -}}
{{- end -}}
{{- end -}}


{{/* "true" when the services serve gRPC over TLS (tls.secretName and tls.grpc), else empty. */}}
{{- define "dti.grpcTls" -}}
{{- if and .Values.tls.secretName .Values.tls.grpc }}true{{ end -}}
{{- end -}}

{{/* "true" when /metrics and the HTTP probes are served over TLS, else empty. */}}
{{- define "dti.metricsTls" -}}
{{- if and .Values.tls.secretName .Values.tls.metrics }}true{{ end -}}
{{- end -}}

{{/* The scheme of the services' gRPC endpoints: https with gRPC TLS, else http. */}}
{{- define "dti.grpcScheme" -}}
{{- if include "dti.grpcTls" . }}https{{ else }}http{{ end -}}
{{- end -}}

{{/* The gateway's and results site's HTTP listener TLS; call with (dict "root" $ "prefix" $p). */}}
{{- define "dti.httpTlsEnv" -}}
{{- if and .root.Values.tls.secretName .root.Values.tls.http }}
- name: {{ .prefix }}SERVICE__HTTP_TLS__CERT_PATH
  value: /etc/dti/tls/tls.crt
- name: {{ .prefix }}SERVICE__HTTP_TLS__KEY_PATH
  value: /etc/dti/tls/tls.key
{{- end }}
{{- end -}}

{{/* A service container's probe: gRPC health on the gRPC port, or, when gRPC is on TLS (which
the kubelet's gRPC probes cannot speak), the same status over HTTP(S) on the metrics port. Call
with (dict "root" $ "liveness" bool). */}}
{{- define "dti.probe" -}}
{{- $v := .root.Values -}}
{{- if include "dti.grpcTls" .root -}}
httpGet: { path: {{ ternary "/healthz/live" "/healthz/ready" .liveness }}, port: metrics, scheme: {{ ternary "HTTPS" "HTTP" (not (empty (include "dti.metricsTls" .root))) }} }
{{- else if .liveness -}}
grpc: { port: {{ $v.ports.grpc }}, service: liveness }
{{- else -}}
grpc: { port: {{ $v.ports.grpc }} }
{{- end -}}
{{- end -}}

{{/* Volume mounts of the TLS files a service reads: its certificate (tls.secretName) and the
CAs of PostgreSQL, NATS and Redis. */}}
{{- define "dti.tlsVolumeMounts" -}}
{{- if .Values.tls.secretName }}
- { name: tls, mountPath: /etc/dti/tls, readOnly: true }
{{- end }}
{{- range $backing := list "database" "nats" "redis" }}
{{- if (index $.Values $backing).tlsCaSecret }}
- { name: {{ $backing }}-ca, mountPath: /etc/dti/{{ $backing }}-ca, readOnly: true }
{{- end }}
{{- end }}
{{- end -}}

{{/* The volumes of dti.tlsVolumeMounts. */}}
{{- define "dti.tlsVolumes" -}}
{{- if .Values.tls.secretName }}
- name: tls
  secret: { secretName: {{ .Values.tls.secretName | quote }} }
{{- end }}
{{- range $backing := list "database" "nats" "redis" }}
{{- with (index $.Values $backing) }}
{{- if .tlsCaSecret }}
- name: {{ $backing }}-ca
  secret:
    secretName: {{ .tlsCaSecret | quote }}
    items: [{ key: {{ .tlsCaKey | quote }}, path: {{ .tlsCaKey | quote }} }]
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
