# A real Redis for the feature store tests (sourced by tests/run_all.sh).
# Installs redis-server from Debian when missing, starts a throwaway instance on
# 127.0.0.1 (free port, no persistence, temp dir), exports REDIS_URL, and
# registers its shutdown with on_exit. Idempotent: a rerun starts a fresh one.
if ! command -v redis-server >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
python -m pip install --quiet -e ".[redis]"

_redis_dir="$(mktemp -d "$CI_WORK/redis.XXXXXX")"
_redis_port="$(python -c 'from tests.support import free_port; print(free_port())')"
redis-server --bind 127.0.0.1 --port "$_redis_port" --protected-mode yes \
  --save "" --appendonly no --dir "$_redis_dir" \
  --daemonize yes --pidfile "$_redis_dir/redis.pid" --logfile "$_redis_dir/redis.log"
on_exit "kill \$(cat '$_redis_dir/redis.pid' 2>/dev/null) 2>/dev/null; sleep 0.2; rm -rf '$_redis_dir'"
for _ in $(seq 1 50); do
  redis-cli -h 127.0.0.1 -p "$_redis_port" ping 2>/dev/null | grep -q PONG && break
  sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$_redis_port" ping | grep -q PONG || { cat "$_redis_dir/redis.log"; false; }
export REDIS_URL="redis://127.0.0.1:$_redis_port/0"
echo "redis-server $(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/') on $REDIS_URL"
