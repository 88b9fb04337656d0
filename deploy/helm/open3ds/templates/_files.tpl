{{/*
The Secret keys every role mounts: the scheme CA, its TLS pair, its admin token, the metrics token
when /metrics asks for one, and the operator's secretFiles. Call with (dict "root" $ "v" VALUES
"name" "ds" "prefix" "OPEN3DS_DS"); the result is YAML, read back with fromYamlArray.
*/}}
{{- define "open3ds.commonFiles" -}}
{{- $root := .root -}}{{- $v := .v -}}
{{- include "open3ds.requireSecret" (list "schemeCA" $root.Values.schemeCA "key") -}}
{{- include "open3ds.requireSecret" (list (printf "%s.tls" .name) $v.tls "certKey") -}}
{{- include "open3ds.requireSecret" (list (printf "%s.tls" .name) $v.tls "keyKey") -}}
{{- include "open3ds.requireSecret" (list (printf "%s.adminToken" .name) $v.adminToken "key") -}}
- {env: {{ .prefix }}_TLS_CA, secret: {{ $root.Values.schemeCA.secret }}, key: {{ $root.Values.schemeCA.key }}, path: scheme/ca.crt}
- {env: {{ .prefix }}_TLS_CERT, secret: {{ $v.tls.secret }}, key: {{ $v.tls.certKey }}, path: tls/tls.crt}
- {env: {{ .prefix }}_TLS_KEY, secret: {{ $v.tls.secret }}, key: {{ $v.tls.keyKey }}, path: tls/tls.key}
- {env: {{ .prefix }}_ADMIN_TOKEN_FILE, secret: {{ $v.adminToken.secret }}, key: {{ $v.adminToken.key }}, path: admin-token}
{{- with $root.Values.metrics.token }}{{ if .secret }}
- {env: OPEN3DS_METRICS_TOKEN_FILE, secret: {{ .secret }}, key: {{ .key }}, path: metrics-token}
{{- end }}{{ end }}
{{- range $i, $f := $v.secretFiles }}
{{- if not (and $f.env $f.secret $f.key) }}{{ fail (printf "%s.secretFiles[%d] needs env, secret and key" $.name $i) }}{{ end }}
- {env: {{ $f.env }}, secret: {{ $f.secret }}, key: {{ $f.key }}, path: {{ printf "extra/%d" $i }}}
{{- end }}
{{- end -}}

{{/* The TLS pair of a listener other than the protocol one, when its secret is set. */}}
{{- define "open3ds.pairFiles" -}}
{{- if .ref.secret -}}
- {env: {{ .env }}_CERT, secret: {{ .ref.secret }}, key: {{ .ref.certKey }}, path: {{ .dir }}/tls.crt}
- {env: {{ .env }}_KEY, secret: {{ .ref.secret }}, key: {{ .ref.keyKey }}, path: {{ .dir }}/tls.key}
{{- end -}}
{{- end -}}
