#!/usr/bin/env bash
# Install the Debian packages the shop and its tests need (nginx, chromium, openssl; Prometheus and its nginx
# exporter; podman and docker-compose for the compose test) when they are missing.
set -euo pipefail

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
[ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ] || need+=(prometheus)
[ -x /usr/bin/prometheus-nginx-exporter ] || need+=(prometheus-nginx-exporter)
# the compose test (tests/compose/run.py): podman with runc (crun fails on the CI machines), its network stack,
# Debian's docker-compose 1.29 (honours service_healthy) and debootstrap for the base image
for tool in podman runc netavark aardvark-dns iptables docker-compose debootstrap; do
  case $tool in
    netavark|aardvark-dns) [ -x "/usr/lib/podman/$tool" ] || need+=("$tool") ;;
    iptables) command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || need+=(iptables) ;;
    *) command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || need+=("$tool") ;;
  esac
done
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "error: missing system packages: ${need[*]} — install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
