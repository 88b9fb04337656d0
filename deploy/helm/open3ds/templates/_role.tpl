{{/*
open3ds.role renders one role: its ConfigMap, Deployment, Services and PodDisruptionBudget. The
role's own template (ds.yaml, acs.yaml, 3dss.yaml) works out what differs and passes a dict:

  root      the chart's top context ($)
  role      ds, acs or 3dss: the component label, the name suffix and `open3ds serve ROLE`
  prefix    the role's variable prefix: OPEN3DS_DS, OPEN3DS_ACS or OPEN3DS_3DSS
  v         the role's values
  ports     [{name, port}]: the container's ports; "admin" serves /livez, /readyz and /metrics
  services  [{suffix, port, spec}]: one Service per listener that callers reach, spec the values
            holding its type and annotations
  files     [{env, secret, key, path}]: Secret keys mounted as files under the secret directory,
            env (when not empty) the variable given the file's path
  defaults  variables the role's env values may override (URLs derived from the Services)
  settings  variables the chart decides (listen addresses): the ports above depend on them
*/}}
{{- define "open3ds.role" -}}
{{- $root := .root -}}
{{- $name := printf "%s-%s" (include "open3ds.fullname" $root) .role -}}
{{- $selector := include "open3ds.selectorLabels" (dict "root" $root "role" .role) -}}
{{- $dir := include "open3ds.secretDir" $root -}}
{{- $env := merge (dict) .defaults -}}
{{- $env = merge (deepCopy .v.env) $env -}}
{{- range .files -}}
{{- if .env -}}{{- $_ := set $env .env (printf "%s/%s" $dir .path) -}}{{- end -}}
{{- end -}}
{{- range $k, $val := .settings -}}{{- $_ := set $env $k $val -}}{{- end -}}
{{- $_ := set $env "OPEN3DS_LOG_LEVEL" $root.Values.log.level -}}
{{- $_ := set $env "OPEN3DS_LOG_FORMAT" $root.Values.log.format -}}
{{- $_ := set $env "OPEN3DS_DRAIN_DELAY" (printf "%ds" (int .v.drainDelaySeconds)) -}}
{{- $_ := set $env "OPEN3DS_SHUTDOWN_GRACE" (printf "%ds" (int .v.shutdownGraceSeconds)) -}}
{{- $config := dict -}}
{{- range $k, $val := $env -}}{{- $_ := set $config $k (toString $val) -}}{{- end -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name }}
  labels:
    {{- include "open3ds.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .role }}
data:
  {{- toYaml $config | nindent 2 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "open3ds.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .role }}
spec:
  replicas: {{ .v.replicas }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- $selector | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        {{- include "open3ds.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .role }}
      annotations:
        # A change of settings rolls the pods, which read them only at start.
        checksum/config: {{ toYaml $config | sha256sum }}
        {{- if $root.Values.metrics.scrapeAnnotations }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ .v.ports.admin | quote }}
        prometheus.io/path: /metrics
        {{- end }}
        {{- with .v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ include "open3ds.terminationGrace" (dict "root" $root "v" .v) }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .role }}
          image: {{ include "open3ds.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [serve, {{ .role | quote }}]
          ports:
            {{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ $name }}
          env:
            - name: OPEN3DS_DSN
              valueFrom:
                secretKeyRef:
                  name: {{ $root.Values.database.dsn.secret }}
                  key: {{ $root.Values.database.dsn.key }}
          # Liveness restarts a process that stopped answering; readiness takes an instance out of
          # the Services while its store (or, for the 3DS Server, its card ranges) is not there.
          startupProbe:
            httpGet:
              path: /livez
              port: admin
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet:
              path: /livez
              port: admin
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /readyz
              port: admin
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          resources:
            {{- toYaml .v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: secrets
              mountPath: {{ $dir }}
              readOnly: true
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: secrets
          projected:
            defaultMode: 0440
            sources:
              {{- range .files }}
              - secret:
                  name: {{ .secret }}
                  items:
                    - key: {{ .key }}
                      path: {{ .path }}
              {{- end }}
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
      {{- if $root.Values.topologySpread.enabled }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: {{ $root.Values.topologySpread.topologyKey }}
          whenUnsatisfiable: {{ $root.Values.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- $selector | nindent 14 }}
      {{- end }}
      {{- with .v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- range .services }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}{{ .suffix }}
  labels:
    {{- include "open3ds.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $.role }}
  {{- with .spec.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .spec.type }}
  selector:
    {{- $selector | nindent 4 }}
  ports:
    - name: {{ .port }}
      port: {{ index $.v.ports .port }}
      targetPort: {{ .port }}
      protocol: TCP
{{- end }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "open3ds.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .role }}
spec:
  maxUnavailable: {{ .v.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- $selector | nindent 6 }}
{{- end -}}
