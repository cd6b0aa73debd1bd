# REST shim, observability and the console page (sourced by tests/run_all.sh).
#
# 1. The runtime extras `rest` (fastapi, uvicorn, pyjwt) and `observability`
#    (prometheus-client, opentelemetry-api/sdk), plus what their tests use: httpx
#    (HTTP client, ASGI transport) and openapi-spec-validator (checks /openapi.json).
# 2. Headless Chromium for tests/console: Debian's `chromium` package, installed with
#    apt when missing; exports CHROMIUM_BIN. No browser download of its own.
# Idempotent. About 3 s when everything is there; 30-90 s on a fresh machine (chromium
# and its libraries are ~100 MB of .debs). The tests themselves take ~25 s.
python -m pip install --quiet -e ".[rest,observability]" "httpx>=0.27" "openapi-spec-validator>=0.7"
if ! command -v chromium >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
export CHROMIUM_BIN="$(command -v chromium)"
echo "chromium: $("$CHROMIUM_BIN" --version 2>/dev/null | head -1) at $CHROMIUM_BIN"
