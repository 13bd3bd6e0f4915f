{{- define "fluxcd.labels" -}}
app.kubernetes.io/name: fluxcd-controller
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: fluxcd
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "fluxcd.selector" -}}
app.kubernetes.io/name: fluxcd-controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
