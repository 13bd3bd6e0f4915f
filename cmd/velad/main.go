package main

import (
	_ "github.com/k3s-io/kine/pkg/endpoint"
	_ "github.com/spf13/cobra"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
	_ "cuelang.org/go/cue/cuecontext"
	_ "sigs.k8s.io/controller-runtime"
)

func main() {}
