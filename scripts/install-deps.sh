#!/usr/bin/env bash
# Installs arbor's build and test dependencies from Debian 12's packages.
# Idempotent and non-interactive: does nothing when everything is present.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ make
  libcaf-dev libtomlplusplus-dev libfmt-dev libspdlog-dev
  catch2 libcli11-dev nlohmann-json3-dev libcpp-httplib-dev
  tzdata # /usr/share/zoneinfo: cron_tz and the cron/time zone tests read it
  prometheus # promtool: tests/core/metrics_test.cpp checks a scrape of /metrics with it
  systemd    # systemd-analyze: the startup tests verify the generated unit with it
  libncurses-dev # `arbor top` draws with ncurses
  tmux       # tests/core/top_tmux_test.cpp drives `arbor top` in a tmux pane
  util-linux # setpriv: tests/core/identity_test.cpp runs the CLI as nobody
  python3 nodejs # examples/socket_activation/, run by tests/core/socket_activation_example_test.cpp
  chromium chromium-driver python3-selenium # tests/web/dashboard_test.py: the dashboard in a real browser
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
