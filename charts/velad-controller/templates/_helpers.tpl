{{- define "velad-controller.name" -}}velad-controller{{- end -}}
{{- define "velad-controller.labels" -}}
app.kubernetes.io/name: velad-controller
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "velad-controller.selector" -}}
app.kubernetes.io/name: velad-controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
