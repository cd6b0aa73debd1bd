# A real Redis Cluster for the cluster tests (sourced by tests/run_all.sh, after 15-redis.sh,
# which installs redis-server and redis-tools and the redis extra).
# Six throwaway redis-server nodes on 127.0.0.1 (free client ports and free cluster bus ports,
# no persistence, one temp dir each), joined by `redis-cli --cluster create` into 3 masters
# with one replica each. Exports REDIS_CLUSTER_URL (redis+cluster://host:port,...) and
# REDIS_CLUSTER_DIR: each node's directory there holds the redis.conf it was started from,
# so a test that kills a node (tests/features/cluster.py) can start it again as it was.
# Registers the shutdown of every node with on_exit. Idempotent: a rerun starts a fresh one.
if ! command -v redis-cli >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
fi

_cluster_dir="$(mktemp -d "$CI_WORK/redis-cluster.XXXXXX")"
# 12 distinct free ports (6 client, 6 bus), held at once so none repeats.
read -r -a _cluster_ports <<< "$(python - <<'EOF'
import socket
held = []
for _ in range(12):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
for s in held:
    s.close()
EOF
)"
_cluster_addrs=()
for _i in 0 1 2 3 4 5; do
  _port="${_cluster_ports[$_i]}"
  _node_dir="$_cluster_dir/node-$_port"
  mkdir -p "$_node_dir"
  # cluster-node-timeout 2000: a dead master is failed over in about 3-5 s, and a node starved of
  # CPU on the loaded 2-core CI machine for less than 2 s is not taken for dead.
  cat > "$_node_dir/redis.conf" <<EOF
bind 127.0.0.1
port $_port
cluster-port ${_cluster_ports[$((_i + 6))]}
protected-mode yes
cluster-enabled yes
cluster-config-file $_node_dir/nodes.conf
cluster-node-timeout 2000
save ""
appendonly no
repl-diskless-sync-delay 0
dir $_node_dir
daemonize yes
pidfile $_node_dir/redis.pid
logfile $_node_dir/redis.log
EOF
  redis-server "$_node_dir/redis.conf"
  _cluster_addrs+=("127.0.0.1:$_port")
done
on_exit "for _p in '$_cluster_dir'/node-*/redis.pid; do kill \$(cat \"\$_p\" 2>/dev/null) 2>/dev/null; done; sleep 0.3; rm -rf '$_cluster_dir'"
for _addr in "${_cluster_addrs[@]}"; do
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "${_addr##*:}" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
done
redis-cli --cluster create "${_cluster_addrs[@]}" --cluster-replicas 1 --cluster-yes >"$_cluster_dir/create.log" 2>&1 \
  || { cat "$_cluster_dir/create.log" "$_cluster_dir"/node-*/redis.log; false; }
# Ready when every node says the cluster is ok, sees six nodes connected of which three are
# replicas, and every replica's link to its master is up (so WAIT can count it at once).
_cluster_ready() {
  local addr nodes
  for addr in "${_cluster_addrs[@]}"; do
    redis-cli -h 127.0.0.1 -p "${addr##*:}" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
    nodes="$(redis-cli -h 127.0.0.1 -p "${addr##*:}" cluster nodes 2>/dev/null)"
    [ "$(grep -c ' connected' <<< "$nodes")" = 6 ] && [ "$(awk '$3 ~ /slave/' <<< "$nodes" | wc -l)" = 3 ] || return 1
    if redis-cli -h 127.0.0.1 -p "${addr##*:}" info replication 2>/dev/null | grep -q '^role:slave'; then
      redis-cli -h 127.0.0.1 -p "${addr##*:}" info replication | grep -q '^master_link_status:up' || return 1
    fi
  done
}
for _ in $(seq 1 200); do _cluster_ready && break; sleep 0.1; done
_cluster_ready || { cat "$_cluster_dir/create.log"; redis-cli -p "${_cluster_ports[0]}" cluster nodes; false; }
export REDIS_CLUSTER_DIR="$_cluster_dir"
export REDIS_CLUSTER_URL="redis+cluster://$(IFS=,; echo "${_cluster_addrs[*]}")"
echo "redis cluster (3 masters, 3 replicas) on $REDIS_CLUSTER_URL"
