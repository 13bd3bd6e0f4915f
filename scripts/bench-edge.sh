#!/usr/bin/env bash
# Edge benchmark (root): a `velad server` and two `velad agent`s, each in a
# network namespace of its own on a test bridge (198.19.254.0/24, RFC 2544
# test addresses; nothing else is reached). Prints:
#   - time from `velad agent` start to its Node Ready (two agents at once,
#     then one restarted: images already imported, then a third alone),
#     seen through a watch (kubectl wait), with the agent's own
#     per-component start times, and the time from start until the agent
#     imported the rest of the images in the background (a pod needing one
#     of those before then waits in the kubelet's image pull backoff),
#   - an agent's idle RSS (VmRSS of the velad agent process, after 60 s),
#   - pod-to-pod TCP throughput (HTTP upload of 500 MB) across nodes and on
#     one node.
# Everything is removed at the end. (nsenter execs velad: $! is velad's PID.)
set -euo pipefail
bin=${1:-bin/velad}; bin=$(readlink -f "$bin")
work=$(mktemp -d /tmp/velad-bench-edge.XXXX)
br=vtbrbench; net=198.19.254
pids=()
ns() { nsenter --net=/run/netns/bench-edge-$1 "${@:2}"; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do for _ in $(seq 60); do kill -0 "$p" 2>/dev/null || break; sleep 1; done; done
  for i in 3 4 5; do ns $i "$bin" uninstall --data-dir "$work/a$i" >/dev/null 2>&1 || true; done
  echo '{"serverURL":"https://127.0.0.1:1","nodeName":"s","cluster":{"apiServerPort":1}}' > "$work/srv/agent/join.json" 2>/dev/null || true
  ns 2 "$bin" uninstall --data-dir "$work/srv" >/dev/null 2>&1 || true
  for i in 2 3 4 5; do ip netns del bench-edge-$i 2>/dev/null || true; done
  ip link del $br 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip link add $br type bridge; ip addr add $net.1/24 dev $br; ip link set $br up
for i in 2 3 4 5; do
  ip netns add bench-edge-$i
  ip link add vthb$i type veth peer name eth0 netns bench-edge-$i
  ip link set vthb$i master $br up
  ip -n bench-edge-$i addr add $net.$i/24 dev eth0
  ip -n bench-edge-$i link set eth0 up; ip -n bench-edge-$i link set lo up
  ip -n bench-edge-$i route add default via $net.1
done
kc=$work/kc
K() { ns 2 "$bin" kubectl --kubeconfig "$kc" "$@"; }
nsenter --net=/run/netns/bench-edge-2 "$bin" server --data-dir "$work/srv" --write-kubeconfig "$kc" --bind-ip $net.2 --node-name s > "$work/srv.log" 2>&1 & pids+=($!)
for _ in $(seq 180); do grep -q "server ready in" "$work/srv.log" && break; sleep 1; done
K apply -f examples/edge/nodepools.yaml >/dev/null
tok=$(ns 2 "$bin" token create --data-dir "$work/srv")
ready() { K get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -q True; }
# until_ready NAME: returns when Node NAME is Ready, seen through a watch
# once the Node exists (polling velad kubectl alone would add its start-up
# time to the figure).
until_ready() {
  for _ in $(seq 300); do K get node "$1" >/dev/null 2>&1 && break; sleep 0.2; done
  K wait --for=condition=Ready "node/$1" --timeout=120s >/dev/null
}
since() { echo "$(date +%s.%N) - $1" | bc | cut -c1-5; }
# images_in LOG T0: seconds from T0 to the agent's "background image import
# done" log line (klog's local time of day), or "not yet".
images_in() {
  local ts; ts=$(grep -m1 'background image import done' "$1" | awk '{print $2}' || true)
  [ -n "$ts" ] || { echo "not yet"; return; }
  local day; day=$(date -d "@${2%.*}" +%Y-%m-%d)
  echo "$(echo "$(date -d "$day $ts" +%s.%N) - $2" | bc | cut -c1-5) s"
}
start_agent() { # i name pool
  nsenter --net=/run/netns/bench-edge-$1 "$bin" agent --server https://$net.2:9345 --token "$tok" --data-dir "$work/a$1" --node-name "$2" --node-pool "$3" >> "$work/a$1.log" 2>&1 &
  pids+=($!); eval "apid$1=$!"
}
t0=$(date +%s.%N); t1=$t0; start_agent 3 b1 beijing; start_agent 4 s1 shanghai
for n in b1 s1; do (until_ready $n; echo "agent $n: start to node Ready $(since "$t0") s (two agents at once, first start)") & eval "w_$n=$!"; done
wait "$w_b1" "$w_s1"
echo "agent b1 first start, per component: $(grep -oE '[a-z -]+ ready \([^)]*\)|velad agent ready in [0-9.]+[a-z]+' "$work/a3.log" | sed 's/^ *//' | paste -sd, -)"
kill "$apid3"; for _ in $(seq 60); do kill -0 "$apid3" 2>/dev/null || break; sleep 1; done
for _ in $(seq 120); do ready b1 || break; sleep 1; done
t0=$(date +%s.%N); start_agent 3 b1 beijing
until_ready b1; echo "agent b1: restart to node Ready $(since "$t0") s"
echo "agent s1 first start: all images imported $(images_in "$work/a4.log" "$t1") after start"
t0=$(date +%s.%N); start_agent 5 b2 beijing
until_ready b2; echo "agent b2: start to node Ready $(since "$t0") s (alone, first start)"
echo "agent b2 first start, per component: $(grep -oE '[a-z -]+ ready \([^)]*\)|velad agent ready in [0-9.]+[a-z]+' "$work/a5.log" | sed 's/^ *//' | paste -sd, -)"
sleep 60
echo "agent b2 first start: all images imported $(images_in "$work/a5.log" "$t0") after start"
echo "agent idle RSS: $(awk '/VmRSS/{print int($2/1024)}' /proc/"$apid4"/status) MB (velad agent process; containerd $(for p in $(pgrep -f "$work/a4/data/.*/containerd --config"); do awk '/VmRSS/{print int($2/1024)}' /proc/$p/status; done) MB)"
for n in b1 s1; do
  K run "hello-$n" --image=docker.io/velad/hello:v1 --env=PORT=8080 --overrides="{\"spec\":{\"nodeName\":\"$n\",\"tolerations\":[{\"operator\":\"Exists\"}]}}" >/dev/null
done
K run hello-b1b --image=docker.io/velad/hello:v1 --env=PORT=8080 --overrides='{"spec":{"nodeName":"b1","tolerations":[{"operator":"Exists"}]}}' >/dev/null
K wait --for=condition=Ready pod/hello-b1 pod/hello-s1 pod/hello-b1b --timeout=120s >/dev/null ||
  { K get pods -o wide; K get events --sort-by=.lastTimestamp | tail -20; exit 1; }
ip_s1=$(K get pod hello-s1 -o jsonpath='{.status.podIP}'); ip_b1b=$(K get pod hello-b1b -o jsonpath='{.status.podIP}')
echo "pod-to-pod across nodes (b1 → s1, VXLAN): $(K exec hello-b1 -- /hello upload http://$ip_s1:8080/sink 500)"
echo "pod-to-pod on one node (b1 → b1):        $(K exec hello-b1 -- /hello upload http://$ip_b1b:8080/sink 500)"
