#!/usr/bin/env bash
# Installs code-server (VS Code 1.96.4 for the browser) and Debian's Chromium, offline except for the
# npm registry and Debian's packages, so the extension's tests can run inside a real VS Code.
# code-server's own install script downloads from GitHub, so this follows the manual recipe in
# TESTING.md instead. Idempotent: does nothing once a finished install of the pinned version is there.
set -euo pipefail

readonly CODE_SERVER_VERSION=4.96.4
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly PREFIX="$REPO_ROOT/.vscode-test/code-server"
readonly PACKAGE_DIR="$PREFIX/node_modules/code-server"
readonly VSCODE_DIR="$PACKAGE_DIR/lib/vscode"
readonly BIN="$PREFIX/node_modules/.bin/code-server"
# Written last: `code-server --version` also answers from a half-finished install.
readonly STAMP="$PREFIX/.installed-$CODE_SERVER_VERSION"

log() { echo "== install-code-server: $*"; }

# Chromium opens the workbench; make, g++ and python3 let node-gyp rebuild code-server's native modules.
# Only what is missing is installed, so a prepared machine never touches apt.
ensure_debian_packages() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v make >/dev/null || missing+=(make)
  command -v g++ >/dev/null || missing+=(g++)
  command -v python3 >/dev/null || missing+=(python3)
  if ((${#missing[@]} == 0)); then return; fi
  log "installing Debian packages: ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
}

reports_version() {
  [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION "
}

# node-gyp downloads Node's headers from nodejs.org unless told where they are; Debian/NodeSource
# packages ship them under <prefix>/include/node next to the node binary.
use_local_node_headers() {
  local node_prefix
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  if [[ -f "$node_prefix/include/node/node.h" ]]; then
    export npm_config_nodedir="$node_prefix"
  fi
}

install_package() {
  mkdir -p "$PREFIX"
  # Without a package.json here npm walks up and would install into the repository's node_modules.
  [[ -f "$PREFIX/package.json" ]] || echo '{ "private": true }' >"$PREFIX/package.json"
  (cd "$PREFIX" && npm install --ignore-scripts --no-save --no-audit --no-fund "code-server@$CODE_SERVER_VERSION")
  (cd "$PREFIX" && npm rebuild argon2)
}

# The shrinkwrap pins @vscode/proxy-agent to a GitHub git URL, unreachable here; the registry
# tarball of the same version has the same integrity.
patch_proxy_agent_source() {
  local registry
  registry="$(npm config get registry)"
  # shellcheck disable=SC2016 # the ${...} below are JavaScript template literals
  SHRINKWRAP="$VSCODE_DIR/npm-shrinkwrap.json" REGISTRY="${registry%/}" node -e '
    const fs = require("node:fs");
    const file = process.env.SHRINKWRAP;
    const shrinkwrap = JSON.parse(fs.readFileSync(file, "utf8"));
    const entry = shrinkwrap.packages["node_modules/@vscode/proxy-agent"];
    if (!entry) throw new Error("no @vscode/proxy-agent entry in " + file);
    entry.resolved = `${process.env.REGISTRY}/@vscode/proxy-agent/-/proxy-agent-${entry.version}.tgz`;
    fs.writeFileSync(file, JSON.stringify(shrinkwrap, null, 2) + "\n");
    console.log("proxy-agent resolved ->", entry.resolved);
  '
}

# Install scripts stay off (ripgrep and kerberos download or need what we lack); only the native
# modules the server actually loads are rebuilt.
install_vscode_server() {
  (cd "$VSCODE_DIR" && npm install --omit=dev --ignore-scripts --no-audit --no-fund)
  (cd "$VSCODE_DIR" && npm rebuild node-pty @parcel/watcher @vscode/spdlog native-watchdog @vscode/deviceid)
  # The server loads its dependencies through node_modules.asar, which only the release build creates.
  rm -rf "$VSCODE_DIR/node_modules.asar"
  ln -s node_modules "$VSCODE_DIR/node_modules.asar"
  (cd "$VSCODE_DIR/extensions" && npm install --omit=dev --ignore-scripts --no-audit --no-fund)
}

main() {
  ensure_debian_packages
  if [[ -f "$STAMP" ]] && reports_version; then
    log "code-server $CODE_SERVER_VERSION already installed in $PREFIX"
    return
  fi
  local started=$SECONDS
  use_local_node_headers
  install_package
  patch_proxy_agent_source
  install_vscode_server
  if ! reports_version; then
    log "code-server --version did not report $CODE_SERVER_VERSION:" >&2
    "$BIN" --version >&2 || true
    exit 1
  fi
  touch "$STAMP"
  log "installed $("$BIN" --version | head -1) in $((SECONDS - started)) s"
}

main "$@"
