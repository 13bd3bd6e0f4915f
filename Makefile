# velad — build, test, benchmark. Everything builds without cgo (kine uses
# the pure-Go SQLite driver), which also keeps one warm Go build cache.
export CGO_ENABLED := 0

GO      ?= go
BIN     := bin/velad
PKG     := github.com/velad-dev/velad
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The embedded Kubernetes reports its real version (the API server's
# /version, kubectl, Helm's KubeVersion capability for charts with a
# kubeVersion constraint), read from go.mod.
K8S_VERSION ?= $(shell $(GO) list -m -f '{{.Version}}' k8s.io/kubernetes 2>/dev/null || echo v1.36.3)
K8S_MINOR   := $(word 2,$(subst ., ,$(K8S_VERSION)))
K8S_X       := gitVersion=$(K8S_VERSION) gitMajor=1 gitMinor=$(K8S_MINOR) gitTreeState=clean gitCommit=$(COMMIT)
LDFLAGS := -s -w -X $(PKG)/version.Version=$(VERSION) -X $(PKG)/version.GitCommit=$(COMMIT) \
	-X $(PKG)/version.KubernetesVersion=$(K8S_VERSION) \
	$(foreach v,$(K8S_X),-X k8s.io/component-base/version.$(v) -X k8s.io/client-go/pkg/version.$(v))
# Flags for `make install` / `make run`; the data dir and kubeconfig are
# velad's defaults.
RUN_ARGS ?=

.PHONY: all build payload install run test unit e2e lint compat bench bench-node bench-ingress bench-restart bench-rollout bench-edge bench-build generate clean

all: build

build: payload
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/velad

# What velad carries: runtime binaries (containerd, runc, CNI plugins) and
# images built from Go sources (Traefik's on its own, keyed by its
# version); all cached under _output/.
payload:
	scripts/build-runtime.sh
	scripts/build-images.sh
	scripts/build-traefik.sh

# Build velad and install it on this machine (root): the platform keeps
# running in the background; 'bin/velad uninstall' removes it.
install: build
	./$(BIN) install $(RUN_ARGS)

# Build and run velad in the foreground (Ctrl-C stops it cleanly).
run: build
	./$(BIN) server $(RUN_ARGS)

# Every test: lint, unit tests, and the end-to-end tests against the built binary.
# The e2e package runs several real installs one after another (≈ 16 min on
# 2 cores): go test's default 10-minute limit per package is too short.
test: lint build
	VELAD_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 45m ./...

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /e2e)

e2e: build
	VELAD_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 45m -v ./e2e/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# velad dry-run against KubeVela's output for its own examples, when the
# sample (../shared/compat, outside the repo) is there.
compat: build
	scripts/compat.sh $(CURDIR)/$(BIN)

# Control-plane start times and idle RSS, then the Go benchmarks.
bench: build
	$(GO) run ./scripts/bench/controlplane -velad $(BIN)
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The single node (root): install time, idle RSS with the system pods, binary size.
bench-node: build
	scripts/bench-install.sh

# The ingress addon on the installed velad (root): req/s and p99 through
# Traefik and straight to the pod, Traefik's RSS and its payload's size.
bench-ingress: build
	$(GO) run ./scripts/bench/ingress -velad $(BIN)

# velad stop + start with 50 pods running, on the installed velad (root).
bench-restart: build
	$(GO) run ./scripts/bench/restart -velad $(BIN) -pods 50

# The rollout addon on the installed velad (root): approval → new weight
# serving, and failed requests during a full release under 200 req/s.
bench-rollout: build
	$(GO) run ./scripts/bench/rollout -velad $(BIN)

# Edge (root): agent start to node Ready, an agent's idle RSS, pod-to-pod
# throughput across nodes vs on one node (network namespaces on a test bridge).
bench-edge: build
	scripts/bench-edge.sh $(BIN)

# Cold build from a fresh clone (empty build cache) and an incremental rebuild.
bench-build:
	scripts/bench-build.sh

# Regenerate deepcopy code and CRDs of controller/api (controller-gen).
generate:
	scripts/generate.sh

clean:
	rm -rf bin .bin _output embedded/assets/payload/*.zst
