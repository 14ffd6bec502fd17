#!/usr/bin/env bash
# A Docker engine and Compose v2 for the compose stack, on a Debian 12 machine without a
# container registry: installs Debian's docker.io and Compose v2, starts dockerd when no engine
# answers, and makes the base image `debian:bookworm-slim` with debootstrap when it is missing.
# Usage: dev/docker-engine.sh up|down|status   (down stops only a dockerd this script started)
# Users with Docker Desktop or a distribution's engine need none of this: `docker compose up`
# pulls debian:bookworm-slim from Docker Hub.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DIR=$STATE_DIR/docker
PID=$DIR/dockerd.pid
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# Compose v2 is not in bookworm; trixie's package depends only on libc (../shared/SERVICES.md).
COMPOSE_DEB=pool/main/d/docker-compose/docker-compose_2.26.1-4_amd64.deb

engine_answers() { docker info >/dev/null 2>&1; }

# The Debian archive this machine's apt already uses (no host name is hard-coded here).
debian_mirror() {
  local src
  src=$(grep -l '^Suites:.*bookworm' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
  [ -n "$src" ] || die "no deb822 Debian source in /etc/apt/sources.list.d"
  awk '/^URIs:/{print $2; exit}' "$src"
}

install_packages() {
  local need=()
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  # Debian's docker.io brings a CLI; another one may come earlier on PATH and talks to it the same.
  if ! docker compose version 2>/dev/null | grep -Eq 'version v?2\.'; then
    log "installing Compose v2 (Debian trixie's docker-compose package)"
    curl -fsS -o "$STATE_DIR/docker-compose.deb" "$(debian_mirror)/$COMPOSE_DEB"
    $SUDO dpkg -i "$STATE_DIR/docker-compose.deb" >/dev/null
  fi
  docker compose version
}

start_engine() {
  engine_answers && { log "a Docker engine already answers"; return 0; }
  mkdir -p "$DIR/data" "$DIR/exec"
  log "starting dockerd (data in $DIR)"
  # setsid: its own process group, so `down` can stop it and its helpers together.
  setsid nohup dockerd --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$DIR/dockerd.pidfile" \
    -H unix:///var/run/docker.sock >"$DIR/dockerd.log" 2>&1 &
  echo $! >"$PID"
  wait_until 60 "Docker engine" engine_answers || { tail -n 20 "$DIR/dockerd.log" >&2; die "dockerd did not start; see $DIR/dockerd.log"; }
}

# The same image Docker Hub's debian:bookworm-slim is, made from Debian packages: minbase, the
# archive in deb822 form like the official image's, no apt caches.
base_image() {
  docker image inspect debian:bookworm-slim >/dev/null 2>&1 && { log "base image debian:bookworm-slim present"; return 0; }
  local root=$DIR/bookworm-root mirror
  mirror=$(debian_mirror)
  log "making debian:bookworm-slim with debootstrap from $mirror"
  $SUDO rm -rf "$root"
  $SUDO debootstrap --variant=minbase bookworm "$root" "$mirror" >"$DIR/debootstrap.log" 2>&1 \
    || { tail -n 20 "$DIR/debootstrap.log" >&2; die "debootstrap failed; see $DIR/debootstrap.log"; }
  $SUDO rm -f "$root/etc/apt/sources.list"
  $SUDO tee "$root/etc/apt/sources.list.d/debian.sources" >/dev/null <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  $SUDO rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  $SUDO tar -C "$root" -c . | docker import -c 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
  $SUDO rm -rf "$root"
  log "base image debian:bookworm-slim made"
}

case "${1:-}" in
  up)
    install_packages
    start_engine
    base_image
    ;;
  down)
    if pid=$(alive_pid "$PID"); then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -9 -- "-$pid" 2>/dev/null || true
      rm -f "$PID"; log "dockerd stopped (pid $pid)"
    else
      log "no dockerd started by this script"
    fi
    ;;
  status) if engine_answers; then echo "Docker engine up"; else echo "Docker engine down"; exit 1; fi ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
