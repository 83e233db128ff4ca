{{/* Names ---------------------------------------------------------------- */}}
{{- define "pastebin.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pastebin.fullname" -}}
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

{{- define "pastebin.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pastebin.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pastebin.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "pastebin.labels" -}}
helm.sh/chart: {{ include "pastebin.chart" . }}
{{ include "pastebin.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pastebin
{{- end -}}

{{- define "pastebin.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "pastebin.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image reference. The build tags images with the git SHA and pushes
nothing called like the chart's appVersion, so outside the development profile
a tag or a digest must be given: the render fails instead of a pod stuck in
ImagePullBackOff. */}}
{{- define "pastebin.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else if .Values.image.tag -}}
{{- printf "%s:%s" .Values.image.repository (toString .Values.image.tag) -}}
{{- else if eq (toString (index .Values.config "PASTEBIN_PROFILE")) "development" -}}
{{- printf "%s:%s" .Values.image.repository .Chart.AppVersion -}}
{{- else -}}
{{- fail "image.tag (the git SHA the image was pushed with) or image.digest is required unless config.PASTEBIN_PROFILE=development: the chart's appVersion is not a tag the build pushes (docs/deployment.md, \"Build and push the image\")" -}}
{{- end -}}
{{- end -}}

{{- define "pastebin.cnpgName" -}}
{{- printf "%s-db" (include "pastebin.fullname" .) | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "pastebin.cnpgAnalyticsName" -}}
{{- printf "%s-analytics-db" (include "pastebin.fullname" .) | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{/* Checks that fail the render early instead of a crash-looping pod. */}}
{{- define "pastebin.validate" -}}
{{- if and (eq (toString (index .Values.config "PASTEBIN_PROFILE")) "production") (not .Values.secrets.jwt.existingSecret) -}}
{{- fail "secrets.jwt.existingSecret is required with PASTEBIN_PROFILE=production (the server refuses to start without a strong JWT secret)" -}}
{{- end -}}
{{- if and .Values.secrets.s3.existingSecret (not (index .Values.config "PASTEBIN_S3_BUCKET")) -}}
{{- fail "secrets.s3.existingSecret gives S3 keys but config.PASTEBIN_S3_BUCKET is empty: the object store is on only when a bucket is set" -}}
{{- end -}}
{{- if eq .Values.postgresql.mode "external" -}}
{{- $ext := .Values.postgresql.external -}}
{{- if and (not $ext.urlKey) (not $ext.hosts) -}}
{{- fail "postgresql.external: set urlKey or at least one entry in hosts" -}}
{{- end -}}
{{- if and (not $ext.analyticsUrlKey) (not $ext.analytics.hosts) -}}
{{- fail "postgresql.external: set analyticsUrlKey or at least one entry in analytics.hosts" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Where the CA that signs the database servers comes from, as a volume
source, or "" for the public web PKI roots. CloudNativePG always serves TLS
with its own CA: the main Cluster's "<cluster>-ca" Secret (only its ca.crt key
is projected, never ca.key); the analytics Cluster is told to use the same CA
(cnpg-cluster.yaml), so one file verifies both. External mode: the CA bundle
ConfigMap named in the values (the RDS bundle). */}}
{{- define "pastebin.dbCaVolume" -}}
{{- if eq .Values.postgresql.mode "cloudnativepg" -}}
secret:
  secretName: {{ printf "%s-ca" (include "pastebin.cnpgName" .) | quote }}
  items:
    - key: ca.crt
      path: ca.crt
  defaultMode: 0444
{{- else if .Values.postgresql.external.caBundle.configMap -}}
configMap:
  name: {{ .Values.postgresql.external.caBundle.configMap | quote }}
  defaultMode: 0444
{{- end -}}
{{- end -}}

{{- define "pastebin.dbCaFile" -}}
{{- if eq .Values.postgresql.mode "cloudnativepg" -}}
/etc/pastebin/db-ca/ca.crt
{{- else if .Values.postgresql.external.caBundle.configMap -}}
{{- printf "/etc/pastebin/db-ca/%s" .Values.postgresql.external.caBundle.key -}}
{{- end -}}
{{- end -}}

{{/* Postgres URL built from $(PB_*) variables that Kubernetes expands. */}}
{{- define "pastebin.pgUrl" -}}
{{- $q := ternary (printf "?%s" .params) "" (ne (toString .params) "") -}}
{{- printf "postgres://$(%s):$(%s)@%s/%s%s" .user .password (join "," .hosts) .database $q -}}
{{- end -}}

{{- define "pastebin.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret | quote }}
      key: {{ .key | quote }}
{{- end -}}

{{/* Database environment for every workload. */}}
{{- define "pastebin.databaseEnv" -}}
{{- if eq .Values.postgresql.mode "cloudnativepg" -}}
{{- $cnpg := .Values.postgresql.cloudnativepg -}}
{{- $main := include "pastebin.cnpgName" . -}}
{{- $ana := include "pastebin.cnpgAnalyticsName" . -}}
{{- $ns := .Release.Namespace }}
{{ include "pastebin.secretEnv" (dict "name" "PB_DB_USER" "secret" (printf "%s-app" $main) "key" "username") }}
{{ include "pastebin.secretEnv" (dict "name" "PB_DB_PASSWORD" "secret" (printf "%s-app" $main) "key" "password") }}
{{ include "pastebin.secretEnv" (dict "name" "PB_ANALYTICS_DB_USER" "secret" (printf "%s-app" $ana) "key" "username") }}
{{ include "pastebin.secretEnv" (dict "name" "PB_ANALYTICS_DB_PASSWORD" "secret" (printf "%s-app" $ana) "key" "password") }}
- name: PASTEBIN_DATABASE_URL
  value: {{ include "pastebin.pgUrl" (dict "user" "PB_DB_USER" "password" "PB_DB_PASSWORD" "hosts" (list (printf "%s-rw.%s.svc:5432" $main $ns)) "database" $cnpg.database "params" "target_session_attrs=read-write&sslmode=require") | quote }}
- name: PASTEBIN_REPLICA_DATABASE_URL
  value: {{ include "pastebin.pgUrl" (dict "user" "PB_DB_USER" "password" "PB_DB_PASSWORD" "hosts" (list (printf "%s-ro.%s.svc:5432" $main $ns)) "database" $cnpg.database "params" "target_session_attrs=read-only&sslmode=require") | quote }}
- name: PASTEBIN_ANALYTICS_DATABASE_URL
  value: {{ include "pastebin.pgUrl" (dict "user" "PB_ANALYTICS_DB_USER" "password" "PB_ANALYTICS_DB_PASSWORD" "hosts" (list (printf "%s-rw.%s.svc:5432" $ana $ns)) "database" $cnpg.analytics.database "params" "sslmode=require") | quote }}
{{- else -}}
{{- $ext := .Values.postgresql.external -}}
{{- $composed := or (not $ext.urlKey) (and (not $ext.replicaUrlKey) $ext.replica.hosts) -}}
{{- if $composed }}
{{ include "pastebin.secretEnv" (dict "name" "PB_DB_USER" "secret" $ext.existingSecret "key" $ext.usernameKey) }}
{{ include "pastebin.secretEnv" (dict "name" "PB_DB_PASSWORD" "secret" $ext.existingSecret "key" $ext.passwordKey) }}
{{- end }}
{{- if $ext.urlKey }}
{{ include "pastebin.secretEnv" (dict "name" "PASTEBIN_DATABASE_URL" "secret" $ext.existingSecret "key" $ext.urlKey) }}
{{- else }}
- name: PASTEBIN_DATABASE_URL
  value: {{ include "pastebin.pgUrl" (dict "user" "PB_DB_USER" "password" "PB_DB_PASSWORD" "hosts" $ext.hosts "database" $ext.database "params" $ext.params) | quote }}
{{- end }}
{{- if $ext.replicaUrlKey }}
{{ include "pastebin.secretEnv" (dict "name" "PASTEBIN_REPLICA_DATABASE_URL" "secret" $ext.existingSecret "key" $ext.replicaUrlKey) }}
{{- else if $ext.replica.hosts }}
- name: PASTEBIN_REPLICA_DATABASE_URL
  value: {{ include "pastebin.pgUrl" (dict "user" "PB_DB_USER" "password" "PB_DB_PASSWORD" "hosts" $ext.replica.hosts "database" $ext.database "params" $ext.replica.params) | quote }}
{{- end }}
{{- if $ext.analyticsUrlKey }}
{{ include "pastebin.secretEnv" (dict "name" "PASTEBIN_ANALYTICS_DATABASE_URL" "secret" $ext.existingSecret "key" $ext.analyticsUrlKey) }}
{{- else }}
{{- $anaSecret := default $ext.existingSecret $ext.analytics.existingSecret }}
{{ include "pastebin.secretEnv" (dict "name" "PB_ANALYTICS_DB_USER" "secret" $anaSecret "key" $ext.analytics.usernameKey) }}
{{ include "pastebin.secretEnv" (dict "name" "PB_ANALYTICS_DB_PASSWORD" "secret" $anaSecret "key" $ext.analytics.passwordKey) }}
- name: PASTEBIN_ANALYTICS_DATABASE_URL
  value: {{ include "pastebin.pgUrl" (dict "user" "PB_ANALYTICS_DB_USER" "password" "PB_ANALYTICS_DB_PASSWORD" "hosts" $ext.analytics.hosts "database" $ext.analytics.database "params" $ext.analytics.params) | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Secrets other than the database. */}}
{{- define "pastebin.otherSecretEnv" -}}
{{- with .Values.secrets.jwt }}
{{- if .existingSecret }}
{{ include "pastebin.secretEnv" (dict "name" "PASTEBIN_JWT_SECRET" "secret" .existingSecret "key" .key) }}
{{- end }}
{{- end }}
{{- with .Values.secrets.jwtVerification }}
{{- if and .existingSecret .publicKeyKey }}
- name: PASTEBIN_JWT_PUBLIC_KEY_FILE
  value: {{ printf "/etc/pastebin/jwt/%s" .publicKeyKey | quote }}
{{- end }}
{{- if and .existingSecret .jwksKey }}
- name: PASTEBIN_JWKS_FILE
  value: {{ printf "/etc/pastebin/jwt/%s" .jwksKey | quote }}
{{- end }}
{{- end }}
{{- with .Values.secrets.redis }}
{{- if .existingSecret }}
{{ include "pastebin.secretEnv" (dict "name" "PASTEBIN_REDIS_URL" "secret" .existingSecret "key" .urlKey) }}
{{- end }}
{{- end }}
{{- with .Values.secrets.s3 }}
{{- if .existingSecret }}
{{ include "pastebin.secretEnv" (dict "name" "PASTEBIN_S3_ACCESS_KEY" "secret" .existingSecret "key" .accessKeyKey) }}
{{ include "pastebin.secretEnv" (dict "name" "PASTEBIN_S3_SECRET_KEY" "secret" .existingSecret "key" .secretKeyKey) }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The full container environment. The PB_* helpers come first: Kubernetes
only expands $(VAR) references to variables defined earlier in the list. */}}
{{- define "pastebin.env" -}}
{{- include "pastebin.databaseEnv" . }}
{{- include "pastebin.otherSecretEnv" . }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The ConfigMap data, also rendered inline into the migrate hook, which
runs before the ConfigMap exists on a first install. */}}
{{- define "pastebin.configData" -}}
PASTEBIN_ADDR: {{ printf "0.0.0.0:%v" .Values.api.port | quote }}
PASTEBIN_METRICS_ADDR: {{ printf "0.0.0.0:%v" .Values.api.metricsPort | quote }}
{{- with include "pastebin.dbCaFile" . }}
PASTEBIN_DB_CA_FILE: {{ . | quote }}
{{- end }}
{{- range $k, $v := .Values.config }}
{{ $k }}: {{ toString $v | quote }}
{{- end }}
{{- end -}}

{{- define "pastebin.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Volumes every pod gets: a writable /tmp (the root filesystem is
read-only) and the optional IdP verification keys. */}}
{{- define "pastebin.volumes" -}}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- if .Values.secrets.jwtVerification.existingSecret }}
  - name: jwt-keys
    secret:
      secretName: {{ .Values.secrets.jwtVerification.existingSecret | quote }}
      defaultMode: 0440
{{- end }}
{{- with include "pastebin.dbCaVolume" . }}
  - name: db-ca
    {{- . | nindent 4 }}
{{- end }}
{{- end -}}

{{- define "pastebin.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- if .Values.secrets.jwtVerification.existingSecret }}
  - name: jwt-keys
    mountPath: /etc/pastebin/jwt
    readOnly: true
{{- end }}
{{- if include "pastebin.dbCaVolume" . }}
  - name: db-ca
    mountPath: /etc/pastebin/db-ca
    readOnly: true
{{- end }}
{{- end -}}

{{- define "pastebin.topologySpread" -}}
{{- $sel := .selector -}}
{{- range .constraints }}
- {{ toYaml . | nindent 2 | trim }}
  labelSelector:
    matchLabels:
      {{- $sel | nindent 6 }}
{{- end }}
{{- end -}}

{{/* NetworkPolicy egress: DNS plus the store ports. */}}
{{- define "pastebin.egressRules" -}}
{{- if .dns }}
# DNS
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
# Postgres, Redis, S3
- {{- with .to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    {{- range .ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
{{- end -}}

{{/* checkov policy exceptions, each with its reason, as annotations on the
workload (checkov reads `checkov.io/skipN: CHECK_ID=reason`). Argument: dict
with "ctx" (root context) and "probes" (bool: the workload serves no HTTP). */}}
{{- define "pastebin.checkovSkips" -}}
{{- $skips := list "CKV_K8S_35=The binary reads its settings from environment variables only (clap env); secrets come from Secret references, never from the manifest" -}}
{{- if not .ctx.Values.image.digest -}}
{{- $skips = append $skips "CKV_K8S_43=No digest exists before the image is built; production sets image.digest (see docs/deployment.md)" -}}
{{- end -}}
{{- if not .probes -}}
{{- $skips = append $skips "CKV_K8S_8=No HTTP listener (workers and the migrate Job); Kubernetes restarts the process when it exits" -}}
{{- $skips = append $skips "CKV_K8S_9=No HTTP listener and no Service: readiness has no meaning here" -}}
{{- end -}}
{{- range $i, $s := $skips }}
checkov.io/skip{{ add1 $i }}: {{ $s | quote }}
{{- end }}
{{- end -}}

{{/* Mutable tags are pulled every time; a digest is immutable. */}}
{{- define "pastebin.pullPolicy" -}}
{{- .Values.image.pullPolicy | default (ternary "IfNotPresent" "Always" (ne .Values.image.digest "")) -}}
{{- end -}}
