#!/usr/bin/env bash
# Builds and installs InboxLite as a systemd service. Run as root from the repository.
#   deploy/install.sh [PREFIX=/usr/local]
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:-/usr/local}
scripts/ensure-deps.sh
swift build -c release --product inboxlite
install -d "$PREFIX/bin" "$PREFIX/share/inboxlite/Migrations" "$PREFIX/share/doc/inboxlite"
install -m 0755 .build/release/inboxlite "$PREFIX/bin/inboxlite"
# The binary looks for ../share/inboxlite/Migrations next to itself.
install -m 0644 Migrations/*.sql "$PREFIX/share/inboxlite/Migrations/"
install -m 0644 openapi.yaml "$PREFIX/share/inboxlite/openapi.yaml"
install -d "$PREFIX/share/inboxlite/Console"
install -m 0644 Console/* "$PREFIX/share/inboxlite/Console/"
install -m 0644 README.md "$PREFIX/share/doc/inboxlite/README.md"
id inboxlite >/dev/null 2>&1 || useradd --system --home-dir /var/lib/inboxlite --shell /usr/sbin/nologin inboxlite
install -d -m 0700 /etc/inboxlite
[ -f /etc/inboxlite/inboxlite.env ] || install -m 0600 deploy/inboxlite.env.example /etc/inboxlite/inboxlite.env
install -m 0644 deploy/inboxlite.service /etc/systemd/system/inboxlite.service
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  echo "edit /etc/inboxlite/inboxlite.env, then: systemctl enable --now inboxlite"
fi
