# Shared by scripts/run and scripts/test: install what the project needs on a Debian 12 machine.
# Sourced, not executed. Every step is idempotent and skips work already done.

# The Debian packages every build needs (libpcsclite-dev: the ID-card reader's PC/SC library).
BUILD_PACKAGES=(build-essential pkg-config ca-certificates curl git python3 python3-venv python3-pip
  libpcsclite-dev)
# What the kiosk's screens load at run time (X11 and keyboard libraries; iced draws in software),
# and the PC/SC daemon its reader backend talks to.
RUN_PACKAGES=(libx11-6 libx11-xcb1 libxcb1 libxcursor1 libxi6 libxrender1 libxext6 libxfixes3
  libxkbcommon0 libxkbcommon-x11-0 libwayland-client0 pcscd)
# What the tests drive for real: the PC/SC daemon with the virtual reader driver (our emulated
# ID-card reader connects to it), socat for serial pseudo-terminals (the QR scanner), zbarimg
# (an independent QR decoder for the printed slips), headless Chromium with a CJK font (the
# central's web pages, driven over the DevTools protocol and screenshotted), pdftoppm from
# poppler-utils (renders the venue poster PDF so that zbarimg can read its QR back), and for the
# packaging test dpkg-deb and dpkg-shlibdeps (dpkg-dev), systemd-analyze (systemd), and PostgreSQL
# (the central's store tests run a second time against a throwaway cluster, see
# start_test_postgres), and a virtual X display with xwininfo (x11-utils) for the test that
# starts the kiosk's screens for real (tests/ui_xvfb.rs).
TEST_PACKAGES=(pcscd vsmartcard-vpcd socat zbar-tools chromium fonts-noto-cjk poppler-utils dpkg-dev
  systemd postgresql xvfb x11-utils)
# The Python packages the tests use (an independent SM2 implementation for the cross-check;
# Schemathesis, which fuzzes the central's API from its OpenAPI document).
PYTHON_PACKAGES=(gmssl==3.2.2 schemathesis==4.32.5)
# What only the benchmarks need (scripts/bench): a virtual X display for the kiosk's window, and
# Chromium for the side-by-side comparison.
BENCH_PACKAGES=(xvfb chromium postgresql)

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else
    echo "error: '$*' needs root: run this script as root or install sudo" >&2
    return 1
  fi
}

# apt-get installs only the packages that are missing, so a ready machine does no network work.
ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing packages ${missing[*]} and no apt-get: this script expects Debian 12" >&2
    return 1
  fi
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Stable Rust through rustup (Debian 12's own cargo is too old for edition 2024).
ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    log "installing the Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
      | sh -s -- -y --profile minimal --component rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
  fi
}

# A virtual environment in .venv with the test tools; the tests find it there.
ensure_python_env() {
  local venv="$PWD/.venv"
  if [ ! -x "$venv/bin/python" ]; then
    log "creating the Python environment in .venv"
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -m pip show "${PYTHON_PACKAGES[@]%%=*}" >/dev/null 2>&1; then
    log "installing ${PYTHON_PACKAGES[*]}"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${PYTHON_PACKAGES[@]}"
  fi
  export PROTOCOL_PYTHON="$venv/bin/python"
}

# A throwaway PostgreSQL cluster for the central's tests, in a new temporary directory: it listens
# on a unix socket in that directory and on 127.0.0.1 at a free port, trusts local connections,
# and keeps PostgreSQL's defaults otherwise (fsync on). As root, the cluster runs as `nobody`
# (PostgreSQL refuses to run as root). Exports CENTRAL_TEST_POSTGRES, the URL of its `postgres`
# database as the superuser `postgres`; stop_test_postgres stops it and removes the directory.
start_test_postgres() {
  local version bin port user=postgres
  version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
  bin="/usr/lib/postgresql/$version/bin"
  if [ -z "$version" ] || [ ! -x "$bin/initdb" ]; then
    echo "error: no PostgreSQL server binaries under /usr/lib/postgresql" >&2
    return 1
  fi
  PG_TEST_RUN=()
  if [ "$(id -u)" -eq 0 ]; then
    # In /tmp, which `nobody` can reach (root's TMPDIR may not be).
    PG_TEST_DIR=$(mktemp -d /tmp/central-pg.XXXXXX)
    chown nobody: "$PG_TEST_DIR"
    PG_TEST_RUN=(runuser -u nobody --)
  else
    PG_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/central-pg.XXXXXX")
  fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  log "starting a throwaway PostgreSQL $version cluster on 127.0.0.1:$port"
  "${PG_TEST_RUN[@]}" "$bin/initdb" -D "$PG_TEST_DIR/data" -U "$user" --auth=trust \
    --encoding=UTF8 --locale=C >"$PG_TEST_DIR/initdb.log" 2>&1 \
    || { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
  "${PG_TEST_RUN[@]}" "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PG_TEST_DIR -c max_connections=200" \
    start >/dev/null \
    || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
  PG_TEST_BIN=$bin
  export CENTRAL_TEST_POSTGRES="postgres://$user@127.0.0.1:$port/postgres"
}

# Stops the cluster start_test_postgres started (if any) and removes its directory.
stop_test_postgres() {
  [ -n "${PG_TEST_DIR:-}" ] || return 0
  if [ -f "$PG_TEST_DIR/data/postmaster.pid" ]; then
    "${PG_TEST_RUN[@]}" "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_TEST_DIR"
  PG_TEST_DIR=
}
