#!/usr/bin/env bash
# Install and start what crvs and its tests need on a Debian/Ubuntu host: Node.js >= 20, the distribution's
# Docker engine, debootstrap, Ansible (+ ansible-mitogen, which runs its tasks faster; ansible-lint, yamllint),
# age, OpenSSH client, oathtool, BorgBackup (crvs backup prune runs borg where the secrets store is).
# Idempotent: installs only what is missing, starts dockerd only when it does not answer.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "crvs setup: run as root, or install sudo (apt-get install sudo) and run again" >&2; exit 1
  fi
fi

log() { printf '[setup] %s\n' "$*" >&2; }

PACKAGES=(docker.io debootstrap ansible ansible-mitogen ansible-lint yamllint age openssh-client openssl oathtool iproute2 ca-certificates git ssh-audit borgbackup)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then missing+=(nodejs npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  log "Node.js >= 20 is required (found ${node_major}); install it from https://nodejs.org or NodeSource and run again"
  exit 1
fi

# The Docker engine: nothing may have started it (containers, CI machines without systemd).
if ! $SUDO docker info >/dev/null 2>&1; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    log "starting docker (systemd)"
    $SUDO systemctl start docker
  else
    log "starting dockerd (no systemd here)"
    $SUDO sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do $SUDO docker info >/dev/null 2>&1 && break; sleep 1; done
  $SUDO docker info >/dev/null 2>&1 || { log "dockerd did not start; see /var/log/dockerd.log"; exit 1; }
fi
log "host ready: node $(node --version), $(docker version --format 'docker {{.Server.Version}}' 2>/dev/null), $(ansible --version | head -1)"
