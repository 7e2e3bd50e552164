#!/usr/bin/env bash
# Builds the collector container image: `forensic` on an empty base (FROM scratch: no registry is
# needed, and nothing is in the image that an attacker could have changed on a base image), with
# only what `forensic collect` needs at run time:
#
#   /usr/bin/forensic   the binary (a stripped copy; the entry point)
#   the shared libraries `ldd` lists for it, at the paths the dynamic loader looks for them
#   /tmp                (mode 1777) command outputs and spool files go to unlinked temporary files
#   /var/run -> /run    the Docker socket's default path, /var/run/docker.sock, under the host's /run
#   /evidence           the working directory: mount the output directory here
#   /etc/ssl/certs/ca-certificates.crt
#                       the build host's CA bundle: `forensic archive put` (the S3 step of
#                       `forensic k8s collect --to s3://`) checks the S3 service's certificate
#                       against it; without any, its HTTP client refuses to start, even for http://
#
# Nothing else: `collect` execs no program it does not find on PATH (podman, crictl, kubectl and
# journalctl are optional and absent here, so the image collects by --pid or through the containerd
# and Docker sockets), reads no other /etc file of its own (no user lookup, no DNS), and reads the host
# through the mounts of the run line README.md gives ("Install": --pid=host --uts=host --privileged,
# /run, the runtime's state directory, /var/log, the output directory at /evidence).
#
# Usage: packaging/image/build.sh [--binary PATH] [--tag TAG]
#   --binary PATH  the forensic binary (default: target/release/forensic)
#   --tag TAG      the image's name (default: localhost/forensic-collector:VERSION)
# Prints the tag and the image's size. Needs: podman, ldd (libc-bin), strip (binutils).
set -euo pipefail
umask 022
repo=$(cd "$(dirname "$0")/../.." && pwd)
binary=$repo/target/release/forensic
tag=
# shellcheck source=../common.sh
source "$repo/packaging/common.sh"
parse_options "binary tag" "$@"
version=$(binary_version "$binary")
tag=${tag:-localhost/forensic-collector:$version}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
rootfs=$work/rootfs
install_stripped "$binary" "$rootfs/usr/bin/forensic"

# Every library ldd resolves, and the loader (the line without "=>"), copied (not linked) to the
# path the binary asks for: `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)`,
# `/lib64/ld-linux-x86-64.so.2 (0x…)`. linux-vdso has no file.
libs=$(ldd "$rootfs/usr/bin/forensic" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || fail "ldd lists no libraries for $binary (is it dynamically linked?)"
for lib in $libs; do
  install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
done

ca=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca" ] || fail "no CA bundle at $ca (install ca-certificates): archive put needs one"
install -D -m 0644 "$ca" "$rootfs$ca"

install -d -m 1777 "$rootfs/tmp"
install -d -m 0755 "$rootfs/evidence" "$rootfs/run" "$rootfs/var"
ln -s ../run "$rootfs/var/run"

cat > "$work/Containerfile" << EOF
FROM scratch
COPY rootfs/ /
WORKDIR /evidence
ENTRYPOINT ["/usr/bin/forensic"]
CMD ["--help"]
LABEL org.opencontainers.image.title="forensic-collector" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.description="forensic collect, from the host side (--pid=host --privileged)"
EOF
podman build --quiet --file "$work/Containerfile" --tag "$tag" "$work" > /dev/null
size=$(podman image inspect --format '{{.Size}}' "$tag")
echo "$tag $size bytes ($(awk -v b="$size" 'BEGIN { printf "%.1f MiB", b / 1048576 }'))"
