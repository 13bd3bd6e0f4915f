{{- define "rollout.labels" -}}
app.kubernetes.io/name: rollout-controller
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: rollout
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "rollout.selector" -}}
app.kubernetes.io/name: rollout-controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
