#!/usr/bin/env bash
# Product list benchmark, measured with wrk. First issue 12's catalog rows through the gateway of a whole shop,
# each next to its reference (gateway_bench.py; BENCH_GATEWAY=0 skips it), then the service alone under gunicorn
# (2 sync workers) on a seeded database.
# Usage: bench/product_list/run.sh [seconds per scenario, default 10] [rounds, default 1]
#   PRODUCT_DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_product_bench bench/product_list/run.sh
#   (the database must exist; its catalog is seeded when empty). Default: a throwaway SQLite file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
service="$root/services/product"
python="$root/.venv/bin/python"
seconds="${1:-10}"
rounds="${2:-1}"
port="${BENCH_PORT:-18002}"
workers="${BENCH_WORKERS:-2}"
connections="${BENCH_CONNECTIONS:-16}"
if ! command -v wrk >/dev/null; then  # the bench's own tool, never the test suites'
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get install -y -q wrk >/dev/null; fi
  command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
fi
if [ "${BENCH_GATEWAY:-1}" != 0 ]; then
  echo "== through the gateway (issue 12's rows)"
  "$python" "$here/gateway_bench.py" --seconds "$seconds" --rounds "$rounds" --connections "$connections"
  echo "== the service alone"
fi

export SHOP_DATA_DIR="$(mktemp -d)"
export DJANGO_SETTINGS_MODULE=bench_settings
export PYTHONPATH="$here:$service"
export SHOP_LOG_LEVEL=WARNING
gunicorn_pid=""
cleanup() {
  if [ -n "$gunicorn_pid" ]; then kill "$gunicorn_pid" 2>/dev/null || true; wait "$gunicorn_pid" 2>/dev/null || true; fi
  rm -rf "$SHOP_DATA_DIR"
}
trap cleanup EXIT

cd "$service"
"$python" manage.py migrate -v0
"$python" manage.py seed_demo_catalog
"$python" -m gunicorn config.wsgi --workers "$workers" --bind "127.0.0.1:$port" --log-level warning &
gunicorn_pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

base="http://127.0.0.1:$port"
etag="$(curl -fs -D - -o /dev/null "$base/api/v1/products/" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')"
detail_id="$(curl -fs "$base/api/v1/products/?page_size=1" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["id"])')"
echo "database: ${PRODUCT_DATABASE_URL:-sqlite}; workers: $workers; wrk: 2 threads, $connections connections, ${seconds}s"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
ticks="$(getconf CLK_TCK)"
worker_cpu_ticks() {  # user+system CPU of the gunicorn workers so far (fields 14 and 15 of /proc/PID/stat)
  local total=0 pid
  for pid in $(pgrep -P "$gunicorn_pid"); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
printf '%-46s %9s %9s %9s %12s\n' scenario "req/s" "p50" "p99" "CPU ms/req"
measure() {  # measure NAME URL [HEADER] [LUA SCRIPT]
  local name="$1" url="$2" header="${3:-}" script="${4:-}"
  local args=(-t2 -c"$connections" -d"${seconds}s" --latency)
  [ -n "$header" ] && args+=(-H "$header")
  [ -n "$script" ] && args+=(-s "$script")
  curl -fs -o /dev/null ${header:+-H "$header"} "$url" || { echo "$name: request failed" >&2; exit 1; }
  local before after out requests
  before="$(worker_cpu_ticks)"
  out="$(wrk "${args[@]}" "$url")"
  after="$(worker_cpu_ticks)"
  requests="$(echo "$out" | awk '/requests in/{print $1}')"
  printf '%-46s %9s %9s %9s %12s %s\n' "$name" \
    "$(echo "$out" | awk '/Requests\/sec/{print $2}')" \
    "$(echo "$out" | awk '$1=="50%"{print $2}')" \
    "$(echo "$out" | awk '$1=="99%"{print $2}')" \
    "$(awk -v t="$((after - before))" -v n="$requests" -v hz="$ticks" 'BEGIN{printf "%.2f", t * 1000 / hz / n}')" \
    "$(echo "$out" | awk '/Non-2xx|Socket errors/' | tr -s ' ')"
}
for round in $(seq "$rounds"); do
  echo "-- round $round"
  measure "baseline: naive DRF ModelSerializer (20 rows)" "$base/bench/naive/"
  measure "baseline: plain values() (20 rows)" "$base/bench/values/"
  measure "product list, 20 rows" "$base/api/v1/products/"
  measure "product list, 20 rows, rendered (cache miss)" "$base/api/v1/products/?page=1" "" "$here/miss.lua"
  measure "product list, filtered + ordered" "$base/api/v1/products/?category=coffee&in_stock=true&ordering=-price"
  measure "product list, 100 rows" "$base/api/v1/products/?page_size=100"
  measure "product list, If-None-Match → 304" "$base/api/v1/products/" "If-None-Match: $etag"
  measure "product detail" "$base/api/v1/products/$detail_id/"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
