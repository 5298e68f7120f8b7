#!/usr/bin/env bash
# Makes the loopback SMTP server of the SMTP sink tests (Tests/SMTPSinkTests/smtpd.py) runnable:
# `python3 -c "import aiosmtpd"` must work, and either the `openssl` binary or the `cryptography`
# module must be there for its self-signed certificate. Tries Debian's python3-aiosmtpd first (as
# root), then PyPI for the python3 on PATH (which may not be Debian's). Used by `make test`.
set -euo pipefail

python=${PYTHON:-python3}

has_module() { "$python" -c "import $1" >/dev/null 2>&1; }

pip_install() {
    # A Debian python refuses user installs without --break-system-packages (PEP 668).
    "$python" -m pip install --quiet --user "$@" >&2 \
        || "$python" -m pip install --quiet --user --break-system-packages "$@" >&2 \
        || "$python" -m pip install --quiet "$@" >&2
}

apt_install() {
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-cache show "$1" >/dev/null 2>&1; then apt-get update -qq >&2 || return 1; fi
    apt-cache show "$1" >/dev/null 2>&1 || return 1
    apt-get install -y -qq "$@" >&2
}

if ! command -v "$python" >/dev/null 2>&1; then
    apt_install python3 || { echo "error: python3 is not on PATH" >&2; exit 1; }
fi

if ! has_module aiosmtpd; then
    echo "installing aiosmtpd for $("$python" -c 'import sys; print(sys.executable)')" >&2
    # Debian's package only serves Debian's own python3 (sys.prefix /usr), not a pyenv or venv one.
    if [ "$("$python" -c 'import sys; print(sys.prefix)')" = /usr ]; then apt_install python3-aiosmtpd || true; fi
    has_module aiosmtpd || pip_install aiosmtpd || true
fi

if ! command -v openssl >/dev/null 2>&1 && ! has_module cryptography; then
    apt_install openssl || apt_install python3-cryptography || pip_install cryptography || true
fi

if ! has_module aiosmtpd; then
    echo "error: cannot install aiosmtpd; run: $python -m pip install --user aiosmtpd" >&2
    exit 1
fi
if ! command -v openssl >/dev/null 2>&1 && ! has_module cryptography; then
    echo "error: neither openssl nor the python cryptography module is available; run: apt-get install -y openssl" >&2
    exit 1
fi
