{{/*
Names and labels. Every object is named after the release (and its role); the selector labels are
the ones a role's Services, PodDisruptionBudget and spread constraints select its pods by.
*/}}
{{- define "open3ds.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "open3ds.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The labels that pick one role's pods: call with (dict "root" $ "role" "acs"). */}}
{{- define "open3ds.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "open3ds.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The directory the role's secret files are mounted in. */}}
{{- define "open3ds.secretDir" -}}/etc/open3ds/secrets{{- end -}}

{{/*
A role's terminationGracePeriodSeconds: its drain delay and shutdown grace, and a margin, so that
the kubelet's SIGKILL never cuts an instance that is still finishing exchanges.
*/}}
{{- define "open3ds.terminationGrace" -}}
{{- add .v.drainDelaySeconds .v.shutdownGraceSeconds .root.Values.drain.marginSeconds -}}
{{- end -}}

{{/*
A reference to a Secret key, failing the render with the value's name when it is incomplete.
Call with (list "ds.tls" .Values.ds.tls "certKey").
*/}}
{{- define "open3ds.requireSecret" -}}
{{- $name := index . 0 -}}{{- $ref := index . 1 -}}{{- $keyField := index . 2 -}}
{{- if not $ref.secret -}}{{- fail (printf "%s.secret must name an existing Secret" $name) -}}{{- end -}}
{{- if not (index $ref $keyField) -}}{{- fail (printf "%s.%s must name a key of Secret %s" $name $keyField $ref.secret) -}}{{- end -}}
{{- end -}}
