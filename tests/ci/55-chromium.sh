# REST shim, observability and the console pages (sourced by tests/run_all.sh).
#
# 1. The runtime extras `rest` (fastapi, uvicorn, pyjwt) and `observability`
#    (prometheus-client, opentelemetry-api/sdk), plus what their tests use: httpx
#    (HTTP client, ASGI transport), openapi-spec-validator (checks /openapi.json) and the
#    `console-test` extra: Pillow (reads the console's screenshots) and promql-parser
#    (parses the Grafana dashboard's and the alert rules' PromQL).
# 2. Headless Chromium for tests/console: Debian's `chromium` package, installed with
#    apt when missing; exports CHROMIUM_BIN. No browser download of its own.
# Idempotent. About 3 s when everything is there; 30-90 s on a fresh machine (chromium
# and its libraries are ~100 MB of .debs). tests/console takes ~1.5 min: one two-worker
# provider over the synthetic artifacts (~40 s to start), the pages, screenshots under
# $CI_WORK/screenshots (listed at the end of pytest's output).
python -m pip install --quiet -e ".[rest,observability,console-test]" "httpx>=0.27" "openapi-spec-validator>=0.7"
if ! command -v chromium >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
export CHROMIUM_BIN="$(command -v chromium)"
echo "chromium: $("$CHROMIUM_BIN" --version 2>/dev/null | head -1) at $CHROMIUM_BIN"
