# Helpers for scripts/test.sh, sourced, never run. They live apart so that a test can run them with
# a stand-in apt-get (scripts/lib_test.go).

say() { printf '\n== %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# How long apt waits for the dpkg and package-list locks that another apt (often the machine's own
# unattended upgrades, just after boot) holds, instead of failing at once.
APT_LOCK_TIMEOUT="${OPEN3DS_APT_LOCK_TIMEOUT:-600}"

apt_updated=
# apt_install WHY PACKAGE...: says what it installs and why, then installs it, waiting for the lock.
apt_install() {
	local why=$1
	shift
	printf 'installing %s: %s\n' "$*" "$why"
	local apt=(apt-get -o "DPkg::Lock::Timeout=$APT_LOCK_TIMEOUT")
	if [ -z "$apt_updated" ]; then
		as_root "${apt[@]}" update -qq
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive as_root "${apt[@]}" install -y -qq "$@" >/dev/null
}
