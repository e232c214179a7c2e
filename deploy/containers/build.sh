#!/usr/bin/env bash
# Builds the shop's images (shop-python, shop-gateway) from the repository with podman (or docker).
#
#   deploy/containers/build.sh [TAG]          # default tag: dev
#
# Environment:
#   CONTAINER_ENGINE   the engine command, with any global flags (default: podman)
#   SHOP_BUILD_CA      a CA bundle for a proxy that re-signs HTTPS (e.g. "$PIP_CERT"): passed to the builds as
#                      the secret `ca`, mounted only while pip runs, never stored in a layer
#   SHOP_BASE_IMAGE    debootstrap: when the engine has no debian:bookworm-slim, make it here with
#                      `debootstrap --variant=minbase bookworm` (root; cached in SHOP_CONTAINER_CACHE) instead
#                      of pulling it
#   SHOP_CONTAINER_CACHE  where the debootstrap tarball is kept (default ~/.cache/shop-containers)
# The SPA (frontend/dist) and Swagger UI (deploy/nginx/node_modules) are built on the host first: the SPA needs
# Node.js 20.19+, which Debian bookworm does not ship.
set -euo pipefail
cd "$(dirname "$0")/../.."
TAG=${1:-dev}
ENGINE=${CONTAINER_ENGINE:-podman}
CACHE=${SHOP_CONTAINER_CACHE:-$HOME/.cache/shop-containers}
REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

log() { printf '%s build: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

ensure_base() {
  if $ENGINE image exists debian:bookworm-slim 2>/dev/null || $ENGINE image inspect debian:bookworm-slim >/dev/null 2>&1; then
    return
  fi
  if [ "${SHOP_BASE_IMAGE:-pull}" != debootstrap ]; then
    $ENGINE pull docker.io/library/debian:bookworm-slim
    return
  fi
  local tarball="$CACHE/debian-bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    log "debootstrap --variant=minbase bookworm (once; cached in $tarball)"
    mkdir -p "$CACHE"
    local root; root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 \
      || { rm -rf "$root"; log "debootstrap failed: see $CACHE/debootstrap.log"; exit 1; }
    # what Debian's slim images leave out, now and in every package installed later: documentation (but the
    # copyright files), manual pages, translations; and apt's package lists and caches
    cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
SLIM
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CLEAN
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
      "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
      "$root"/var/log/*.log "$root"/var/log/apt/*
    tar -C "$root" -c . >"$tarball.tmp" && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  log "importing $tarball as debian:bookworm-slim"
  $ENGINE import "$tarball" debian:bookworm-slim >/dev/null
}

ensure_frontend() {
  if [ ! -d frontend/node_modules ]; then (cd frontend && npm ci --no-audit --no-fund --loglevel=error); fi
  if [ ! -d deploy/nginx/node_modules/swagger-ui-dist ]; then
    (cd deploy/nginx && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # rebuilt only when a source is newer than the build (the image layer is then reused as well)
  if [ ! -f frontend/dist/index.html ] || [ -n "$(find frontend/src frontend/index.html frontend/package-lock.json \
       frontend/vite.config.ts -newer frontend/dist/index.html -print -quit)" ]; then
    log "building the SPA (frontend/dist)"
    (cd frontend && npm run build --silent >/dev/null)
  fi
}

build() {
  local name=$1 file=$2; shift 2
  local args=(build -f "$file" -t "$name:$TAG" --build-arg "VERSION=$TAG" --build-arg "REVISION=$REVISION" "$@")
  # podman writes OCI images by default, which drop HEALTHCHECK and STOPSIGNAL metadata compose reads
  case "$ENGINE" in *podman*) args+=(--format docker) ;; esac
  if [ -n "${SHOP_BUILD_CA:-}" ]; then args+=(--secret "id=ca,src=$SHOP_BUILD_CA"); fi
  log "building $name:$TAG"
  local started=$SECONDS
  $ENGINE "${args[@]}" . >&2
  log "$name:$TAG built in $((SECONDS - started))s"
}

ensure_base
build shop-python deploy/containers/python.Containerfile
if [ -f deploy/containers/gateway.Containerfile ]; then
  ensure_frontend
  build shop-gateway deploy/containers/gateway.Containerfile
fi
