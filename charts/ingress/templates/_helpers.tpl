{{- define "ingress.labels" -}}
app.kubernetes.io/name: traefik
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "ingress.selector" -}}
app.kubernetes.io/name: traefik
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "ingress.certificateSecret" -}}
{{- .Values.gateway.certificateSecret | default (printf "%s-default-cert" .Values.gateway.name) -}}
{{- end -}}
{{- define "ingress.checkPorts" -}}
{{- $p := .Values.ports -}}
{{- if eq (int $p.web.hostPort) (int $p.websecure.hostPort) -}}
{{- fail (printf "ports.web.hostPort and ports.websecure.hostPort are both %v: give each its own port" $p.web.hostPort) -}}
{{- end -}}
{{- $c := list (int $p.web.containerPort) (int $p.websecure.containerPort) (int $p.traefik.containerPort) -}}
{{- if ne (len (uniq $c)) 3 -}}
{{- fail (printf "ports.web, ports.websecure and ports.traefik need three different containerPorts (have %v)" $c) -}}
{{- end -}}
{{- end -}}
