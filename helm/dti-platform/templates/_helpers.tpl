{{/* Common labels of every object of the release. */}}
{{- define "dti.labels" -}}
app.kubernetes.io/part-of: dti-platform
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The environment every service shares, for the env prefix given as `.prefix`. */}}
{{- define "dti.sharedEnv" -}}
- name: {{ .prefix }}DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ .root.Values.database.urlSecret }}, key: url } }
- name: {{ .prefix }}NATS_URL
  value: {{ .root.Values.natsUrl | quote }}
- name: {{ .prefix }}NATS_PREFIX
  value: {{ .root.Values.natsPrefix | quote }}
- name: {{ .prefix }}REDIS_URL
  value: {{ .root.Values.redisUrl | quote }}
- name: {{ .prefix }}GRPC_LISTEN_ADDR
  value: "0.0.0.0:{{ .root.Values.grpcPort }}"
- name: {{ .prefix }}METRICS_LISTEN_ADDR
  value: "0.0.0.0:{{ .root.Values.metricsPort }}"
- name: {{ .prefix }}TELEMETRY_LOG_FORMAT
  value: json
{{- if .root.Values.otlpEndpoint }}
- name: {{ .prefix }}TELEMETRY_OTLP_ENDPOINT
  value: {{ .root.Values.otlpEndpoint | quote }}
{{- end }}
- name: {{ .prefix }}AUTH_ISSUER
  value: {{ .root.Values.auth.issuer | quote }}
- name: {{ .prefix }}AUTH_AUDIENCE
  value: {{ .root.Values.auth.audience | quote }}
{{- if eq .root.Values.auth.algorithm "hs256" }}
- name: {{ .prefix }}AUTH_HS256_SECRET
  valueFrom: { secretKeyRef: { name: {{ .root.Values.auth.secret }}, key: hs256-secret } }
{{- else }}
- name: {{ .prefix }}AUTH_RS256_PUBLIC_KEY_PEM_PATH
  value: /etc/dti/auth/rs256-public-key.pem
{{- end }}
{{- end -}}
