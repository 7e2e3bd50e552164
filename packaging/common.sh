# Sourced by packaging/*/build.sh: their usage text, errors, options and the binary they package.

# The "Usage:" … "Prints" lines of the calling script's header comment.
usage() { sed -n 's/^# \{0,1\}//; /^Usage:/,/^Prints/p' "$0"; }

# fail MESSAGE…: the message on stderr, named after the script; exit 2.
fail() {
  echo "packaging/$(basename "$(dirname "$0")")/build.sh: $*" >&2
  exit 2
}

# parse_options "NAME…" ARGS…: `--NAME VALUE` sets the shell variable NAME (only the names given);
# -h/--help prints the usage and exits 0; anything else is a usage error.
parse_options() {
  local names=" $1 " name
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      -h | --help) usage; exit 0 ;;
      --*) name=${1#--} ;;
      *) name= ;;
    esac
    [[ -n $name && $names == *" $name "* ]] || { usage >&2; fail "unknown argument $1"; }
    [ $# -ge 2 ] || fail "$1 needs a value"
    printf -v "$name" '%s' "$2"
    shift 2
  done
}

# binary_version BINARY: the version BINARY's --version names (`forensic 0.1.0` → 0.1.0).
binary_version() {
  [ -x "$1" ] || fail "$1 is not an executable (build it, or pass --binary)"
  local said
  said=$("$1" --version)
  [[ $said == "forensic "?* ]] || fail "$1 --version says \"$said\", not forensic VERSION"
  echo "${said#forensic }"
}

# install_stripped BINARY DEST: a copy of the built binary at DEST (mode 0755), stripped as Debian's
# dh_strip strips (symbols, .comment, .note): what is packaged, never the build's own file.
install_stripped() {
  install -D -m 0755 "$1" "$2"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$2"
}
