# Sourced by scripts/_setup.sh: the system libraries and programs of the report.
#   pango            WeasyPrint renders report.pdf with it (Debian libpango-1.0-0, libpangoft2-1.0-0)
#   graphviz         lays out the model diagram (without it: a fallback drawing)
#   chromium, chromium-driver
#                    the slow browser test of the interactive report (only with
#                    WORKBENCH_BROWSER=1, which `scripts/test --all` sets)
# Installed with apt-get when running as root on a Debian-like machine; otherwise the
# missing packages are named with the command that installs them.
_wb_need=()
if ! ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so'; then
    _wb_need+=(libpango-1.0-0 libpangoft2-1.0-0)
fi
command -v dot >/dev/null 2>&1 || _wb_need+=(graphviz)
if [ "${WORKBENCH_BROWSER:-0}" = 1 ]; then
    command -v chromium >/dev/null 2>&1 || _wb_need+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || _wb_need+=(chromium-driver)
fi
if [ "${#_wb_need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "workbench: installing system packages: ${_wb_need[*]}" >&2
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                --no-install-recommends "${_wb_need[@]}"; } >&2; then
            echo "workbench: could not install ${_wb_need[*]}; the PDF report needs pango," \
                 "the model diagram falls back without Graphviz, the browser test skips" \
                 "without chromium" >&2
        fi
    else
        echo "workbench: missing system packages: ${_wb_need[*]}. Install them with" \
             "'sudo apt-get install ${_wb_need[*]}' (the PDF report needs pango; without" \
             "Graphviz the model diagram uses a fallback drawing; without chromium the" \
             "browser test is skipped)" >&2
    fi
fi
unset _wb_need
