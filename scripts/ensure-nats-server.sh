#!/usr/bin/env bash
# Makes sure a nats-server binary is available, installing Debian's package
# when it is missing and this shell may install packages.
set -euo pipefail
if [ -n "${NATS_SERVER_BIN:-}" ] && [ -x "${NATS_SERVER_BIN}" ]; then exit 0; fi
if command -v nats-server >/dev/null 2>&1; then exit 0; fi
echo "nats-server not found; installing Debian's nats-server package..." >&2
if [ "$(id -u)" = "0" ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "Cannot install nats-server: run 'apt-get install -y nats-server' as root." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq nats-server >&2
command -v nats-server >/dev/null 2>&1 || { echo "nats-server is still missing." >&2; exit 1; }
