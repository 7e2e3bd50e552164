#!/usr/bin/env bash
# Builds the Debian package of forensic from a built binary, with dpkg-deb alone:
#
#   /usr/bin/forensic                                     the binary (a stripped copy)
#   /usr/share/man/man1/forensic*.1.gz                    one page per command (`forensic man --out`)
#   /usr/share/bash-completion/completions/forensic       `forensic completions bash`
#   /usr/share/zsh/vendor-completions/_forensic           `forensic completions zsh`
#   /usr/share/fish/vendor_completions.d/forensic.fish    `forensic completions fish`
#   /usr/share/doc/forensic/{copyright,README.md.gz}
#
# Version: [workspace.package] version in Cargo.toml (the binary's --version must say the same: a
# stale binary is refused). Depends: computed by dpkg-shlibdeps from the libraries the binary links
# (libc6, libgcc-s1, …, with the minimum versions of the symbols it uses).
#
# Why not cargo-deb: installing it compiles about 95 crates, for what is here a directory tree, a
# control file and one dpkg-deb call; dpkg-dev (dpkg-shlibdeps) and binutils (strip, objdump) are
# Debian packages.
#
# Usage: packaging/deb/build.sh [--binary PATH] [--out DIR]
#   --binary PATH  the forensic binary to package (default: target/release/forensic)
#   --out DIR      where the .deb is written (default: target/deb; created if missing)
# Prints the path of the .deb. Needs: dpkg-deb, dpkg-shlibdeps (dpkg-dev), strip (binutils), gzip.
set -euo pipefail
umask 022
repo=$(cd "$(dirname "$0")/../.." && pwd)
binary=$repo/target/release/forensic
out=$repo/target/deb
# shellcheck source=../common.sh
source "$repo/packaging/common.sh"
parse_options "binary out" "$@"

# A value of a [section] of a Cargo.toml: `key = "value"`.
toml_value() {
  awk -v section="[$2]" -v key="$3" '
    $0 == section { inside = 1; next }
    /^\[/ { inside = 0 }
    inside && $1 == key && $2 == "=" { v = $3; gsub(/"/, "", v); print v; exit }' "$1"
}
version=$(toml_value "$repo/Cargo.toml" workspace.package version)
summary=$(sed -n 's/^description = "\(.*\)"$/\1/p' "$repo/cli/Cargo.toml")
homepage=$(toml_value "$repo/Cargo.toml" workspace.package repository)
[ -n "$version" ] && [ -n "$summary" ] || fail "no version or description in Cargo.toml"
said=$(binary_version "$binary")
[ "$said" = "$version" ] || fail "$binary is version $said, Cargo.toml says $version: rebuild it"
# Debian orders 1.0~rc1 before 1.0, as semver orders 1.0-rc1 before 1.0.
deb_version=${version//-/\~}
arch=$(dpkg --print-architecture)
# The packaged files' times: the last commit's (reproducible), else now.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2> /dev/null || date +%s)}
export SOURCE_DATE_EPOCH

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A source tree's layout, which dpkg-shlibdeps expects: debian/control, and the package's files
# under debian/forensic.
root=$work/debian/forensic
chmod 0755 "$work"
mkdir -p "$work/debian"
printf 'Source: forensic\n\nPackage: forensic\nArchitecture: any\n' > "$work/debian/control"
mkdir -m 0755 "$root"

forensic=$root/usr/bin/forensic
install_stripped "$binary" "$forensic"

man1=$root/usr/share/man/man1
"$forensic" man --out "$man1" > /dev/null
gzip -9n "$man1"/*.1

install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
  "$root/usr/share/fish/vendor_completions.d"
"$forensic" completions bash > "$root/usr/share/bash-completion/completions/forensic"
"$forensic" completions zsh > "$root/usr/share/zsh/vendor-completions/_forensic"
"$forensic" completions fish > "$root/usr/share/fish/vendor_completions.d/forensic.fish"

doc=$root/usr/share/doc/forensic
install -D -m 0644 "$repo/packaging/deb/copyright" "$doc/copyright"
gzip -9nc "$repo/README.md" > "$doc/README.md.gz"
find "$root" -type d -exec chmod 0755 {} + -o -type f ! -path "$root/usr/bin/*" -exec chmod 0644 {} +

mkdir -m 0755 "$root/DEBIAN"
depends=$(cd "$work" && dpkg-shlibdeps -O -edebian/forensic/usr/bin/forensic | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || fail "dpkg-shlibdeps found no dependencies of $binary"

(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
cat > "$root/DEBIAN/control" << EOF
Package: forensic
Version: $deb_version
Architecture: $arch
Maintainer: forensic maintainers <forensic@example.invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Section: admin
Priority: optional
Homepage: $homepage
Description: ${summary,}
 forensic collects a running container's evidence from the host side, in the
 order of volatility, into one signed, self-verifying bundle (a ZIP file with a
 sealed manifest and a signed chain-of-custody log), and verifies, lists and
 examines such bundles offline. One man page per command: forensic(1),
 forensic-collect(1), forensic-verify(1) and the others.
EOF
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/forensic_${deb_version}_$arch.deb
# Built beside its destination and renamed: never a half-written .deb under the final name.
partial=$out/.forensic.deb.partial
trap 'rm -rf "$work" "$partial"' EXIT
dpkg-deb --root-owner-group -Zxz --build "$root" "$partial" > /dev/null
mv -f "$partial" "$deb"
echo "$deb"
