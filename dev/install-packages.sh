#!/usr/bin/env bash
# Installs the Debian packages the local stack needs: Valkey 8 (bookworm-backports) and Celery
# for Debian's system python3. Idempotent; needs root (or sudo).
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
command -v valkey-server >/dev/null 2>&1 || need+=(valkey)
/usr/bin/python3 -c 'import celery, redis' >/dev/null 2>&1 || need+=(celery)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v java >/dev/null 2>&1 || need+=(java)
command -v mvn >/dev/null 2>&1 || need+=(maven)
if [ ${#need[@]} -eq 0 ]; then
  echo "install-packages: valkey-server, python3-celery, java and maven already present"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
backports=/etc/apt/sources.list.d/bookworm-backports.sources
if [[ " ${need[*]} " == *" valkey "* ]] && [ ! -f "$backports" ]; then
  # Reuse the machine's own Debian mirror entry so no host name is hard-coded here.
  src=$(grep -l '^Suites:.*bookworm' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
  if [ -z "$src" ]; then
    echo "install-packages: no deb822 Debian source found in /etc/apt/sources.list.d" >&2
    exit 1
  fi
  # Keep only the first stanza (the main archive, not the security one).
  awk 'BEGIN{RS="";ORS="\n\n"} NR==1' "$src" \
    | sed -E 's/^Suites:.*/Suites: bookworm-backports/' | $SUDO tee "$backports" >/dev/null
fi

$SUDO apt-get update -qq
# -t applies to every package of one call: only valkey comes from backports.
command -v curl >/dev/null 2>&1 || $SUDO apt-get install -y -qq --no-install-recommends curl
command -v java >/dev/null 2>&1 || $SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless
command -v mvn >/dev/null 2>&1 || $SUDO apt-get install -y -qq --no-install-recommends maven
command -v valkey-server >/dev/null 2>&1 \
  || $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports valkey-server
/usr/bin/python3 -c 'import celery, redis' >/dev/null 2>&1 \
  || $SUDO apt-get install -y -qq --no-install-recommends python3-celery python3-redis
# The package starts a system-wide valkey on 6379; the project runs its own instances.
$SUDO systemctl disable --now valkey-server >/dev/null 2>&1 || $SUDO service valkey-server stop >/dev/null 2>&1 || true
valkey-server --version
/usr/bin/python3 -c 'import celery, kombu, redis; print("celery", celery.__version__, "kombu", kombu.__version__, "redis-py", redis.__version__)'
