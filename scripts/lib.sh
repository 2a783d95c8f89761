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
# packaging test dpkg-deb and dpkg-shlibdeps (dpkg-dev) and systemd-analyze (systemd).
TEST_PACKAGES=(pcscd vsmartcard-vpcd socat zbar-tools chromium fonts-noto-cjk poppler-utils dpkg-dev
  systemd)
# The Python packages the tests use (an independent SM2 implementation for the cross-check;
# Schemathesis, which fuzzes the central's API from its OpenAPI document).
PYTHON_PACKAGES=(gmssl==3.2.2 schemathesis==4.32.5)
# What only the benchmarks need (scripts/bench): a virtual X display for the kiosk's window, and
# Chromium for the side-by-side comparison.
BENCH_PACKAGES=(xvfb chromium)

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
