#!/bin/bash
# Usage: sudo bench/gocryptfs-concurrency.sh [GOCRYPTFS_BINARY]    (default /usr/bin/gocryptfs)
#        N=500 sudo bench/gocryptfs-concurrency.sh /tmp/gc25/usr/bin/gocryptfs
#
# Measures failed file creates (EACCES/EPERM) when processes of different users create files
# concurrently on gocryptfs, for three layouts of the encrypted data volume, and on crvs's engine now (F):
#   A   one gocryptfs (root, -allow_other) for the whole tree; uid 999, uid 10001 and root
#       (in a 0700 root directory) each create N files concurrently.
#   F   the kernel's fscrypt: one ext4 image with one encrypted directory, made by crvs's own helper
#       (ansible/roles/crvs_data_volume/files/crvs-data-volume); the same three writers as A.
#   B1  one gocryptfs per store (all root, -allow_other, same key); each writer in its own mount.
#   B2  as B, but root writes into the uid-999 mount (own 0700 directory) while uid 999 writes there.
#   C   one gocryptfs per store run AS the store's uid (-allow_other); each store user writes in
#       its mount while root writes into the same mount; prints the owner of root's files. Needs
#       user_allow_other in /etc/fuse.conf, /dev/fuse mode 0666 and passwd entries for the uids
#       (fusermount3 wants a user name): set up for the run if missing, restored at exit.
# Output: per layout, "writer failures/attempts (not owned: created files not owned by the writer)".
# Needs root, fusermount3, setpriv. Works in a mktemp -d directory, unmounted and removed at exit.
set -euo pipefail

GC=${1:-/usr/bin/gocryptfs}
N=${N:-2000}
W=$(mktemp -d /tmp/gc-bench.XXXXXX)
chmod 755 "$W"         # non-root writers and mounts must traverse it
MOUNTS=()              # every mountpoint we created, for cleanup
FUSE_CONF_BACKUP=""    # set if we edited /etc/fuse.conf
DEV_FUSE_MODE=""       # set if we widened /dev/fuse
ACCOUNT_FILES=()       # /etc account files saved before adding temporary users

mounted() { grep -qs " $1 " /proc/mounts; }   # also true for a dead FUSE mount
cleanup() {
  local m f leftover=0
  # shellcheck disable=SC2046  # one pid per word
  kill $(jobs -p) 2>/dev/null || true; wait || true   # writers still running after a signal
  for m in "${MOUNTS[@]}"; do
    if mounted "$m"; then fusermount3 -u "$m" 2>/dev/null || umount -l "$m" || true; fi
  done
  if [[ -n $FUSE_CONF_BACKUP ]]; then cp "$FUSE_CONF_BACKUP" /etc/fuse.conf; fi
  if [[ -n $DEV_FUSE_MODE ]]; then chmod "$DEV_FUSE_MODE" /dev/fuse; fi
  for f in "${ACCOUNT_FILES[@]}"; do cp -p "$W/etc-backup/${f##*/}" "$f"; done
  # Never rm -rf through a live mount.
  for m in "${MOUNTS[@]}"; do if mounted "$m"; then leftover=1; fi; done
  if ((leftover)); then echo "warning: mounts remain, leaving $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $(id -u) -eq 0 ]] || { echo "must run as root" >&2; exit 1; }
[[ -x $GC ]] || { echo "no gocryptfs binary at $GC" >&2; exit 1; }
# One initialised, empty cipher directory; copies of it share the same master key and password.
printf 'bench-password' >"$W/pw" && chmod 644 "$W/pw"   # 644: read by the non-root mounts of C
mkdir "$W/template"
"$GC" -q -init -passfile "$W/pw" "$W/template" >/dev/null

# mount_store NAME [UID]: fresh cipher dir + mountpoint, mounted with -allow_other as root or UID.
mount_store() {
  local uid=${2:-0} c="$W/$1.cipher" m="$W/$1.plain"
  cp -a "$W/template" "$c"; mkdir "$m"; MOUNTS+=("$m")
  if ((uid == 0)); then
    "$GC" -q -nosyslog -allow_other -passfile "$W/pw" "$c" "$m"
  else
    chown -R "$uid:$uid" "$c" "$m"
    setpriv --reuid="$uid" --regid="$uid" --clear-groups \
      "$GC" -q -nosyslog -allow_other -passfile "$W/pw" "$c" "$m"
  fi
}

# mkdir_as DIR UID MODE: directory for one writer (created by root, then handed over).
mkdir_as() { mkdir "$1"; chown "$2:$2" "$1"; chmod "$3" "$1"; }

# creates DIR: create N empty files in DIR, print the number of failed creates.
creates() {
  local i fail=0
  for ((i = 1; i <= N; i++)); do
    { : >"$1/f$i"; } 2>/dev/null || fail=$((fail + 1))
  done
  echo "$fail"
}
export -f creates
export N

# run_case LABEL LABEL1 UID1 DIR1 [LABEL2 UID2 DIR2 ...]: start all writers at once, wait,
# print "LABEL  label1 fail/N (not owned: X)  label2 ...".
run_case() {
  local label=$1 line pids=() outs=() names=() uids=() dirs=() k=0; shift
  while (($#)); do
    outs+=("$W/out.$label.$k"); names+=("$1"); uids+=("$2"); dirs+=("$3")
    # shellcheck disable=SC2016  # $1 is expanded by the inner bash
    setpriv --reuid="$2" --regid="$2" --clear-groups bash -c 'creates "$1"' _ "$3" >"${outs[k]}" &
    pids+=($!); shift 3; k=$((k + 1))
  done
  wait "${pids[@]}"
  line=$(printf '%-4s' "$label")
  for ((k = 0; k < ${#outs[@]}; k++)); do
    # failed/attempted, plus created files whose owner is not the writer's uid
    line+=$(printf '  %s %s/%s (not owned: %s)' "${names[k]}" "$(cat "${outs[k]}")" "$N" \
      "$(find "${dirs[k]}" -type f ! -uid "${uids[k]}" | wc -l)")
  done
  echo "$line"
}

echo "# $("$GC" -version | cut -d';' -f1), kernel $(uname -r), N=$N files per writer"

# A: one mount for the whole tree.
mount_store a
mkdir_as "$W/a.plain/pg" 999 700
mkdir_as "$W/a.plain/app" 10001 700
mkdir_as "$W/a.plain/restore" 0 700
run_case A uid999 999 "$W/a.plain/pg" uid10001 10001 "$W/a.plain/app" root 0 "$W/a.plain/restore"

# F: crvs's volume today, the kernel's fscrypt (ext4 image, one encrypted directory for everything), made and
# unlocked by crvs's own helper in the scratch directory; the same three writers as A.
HELPER=${HELPER:-$(dirname "$0")/../ansible/roles/crvs_data_volume/files/crvs-data-volume}
MOUNTS+=("$W/f.plain" "$W/f/data.fs")
printf 'bench-key' | CRVS_DATA_VOLUME_ROOT="$W/f" CRVS_DATA_VOLUME_MOUNT="$W/f.plain" "$HELPER" open --size-gib 1 >/dev/null
mkdir_as "$W/f.plain/pg" 999 700
mkdir_as "$W/f.plain/app" 10001 700
mkdir_as "$W/f.plain/restore" 0 700
run_case F uid999 999 "$W/f.plain/pg" uid10001 10001 "$W/f.plain/app" root 0 "$W/f.plain/restore"

# B: one root mount per store (pg, app, and a third one for root's own data).
mount_store b-pg; mount_store b-app; mount_store b-root
mkdir_as "$W/b-pg.plain/d" 999 700
mkdir_as "$W/b-app.plain/d" 10001 700
mkdir_as "$W/b-root.plain/d" 0 700
run_case B1 uid999 999 "$W/b-pg.plain/d" uid10001 10001 "$W/b-app.plain/d" root 0 "$W/b-root.plain/d"
# B2: root and uid 999 on the same mount (fresh directories so names do not collide).
mkdir_as "$W/b-pg.plain/d2" 999 700; mkdir_as "$W/b-pg.plain/restore" 0 700
run_case B2 uid999 999 "$W/b-pg.plain/d2" root@pg-mount 0 "$W/b-pg.plain/restore"

# C: one mount per store run as the store's uid; root writes into each mount concurrently.
if ! grep -qx 'user_allow_other' /etc/fuse.conf 2>/dev/null; then
  FUSE_CONF_BACKUP="$W/fuse.conf.orig" && cp /etc/fuse.conf "$FUSE_CONF_BACKUP"
  echo 'user_allow_other' >>/etc/fuse.conf
fi
# fusermount3 refuses uids without a passwd entry: add temporary users, restore the files at exit.
if ! getent passwd 999 >/dev/null || ! getent passwd 10001 >/dev/null; then
  mkdir "$W/etc-backup"
  for f in /etc/passwd /etc/passwd- /etc/shadow /etc/shadow- /etc/subuid /etc/subgid; do
    if [[ -e $f ]]; then cp -p "$f" "$W/etc-backup/"; ACCOUNT_FILES+=("$f"); fi
  done
  for u in 999 10001; do
    getent passwd "$u" >/dev/null ||
      useradd -K UID_MIN=1 -M -N -g 65534 -u "$u" -s /usr/sbin/nologin "gcbench$u"
  done
fi
# Non-root mounts need a world-usable /dev/fuse (usually 0666; some VMs/containers have 0600).
if [[ $(stat -c %a /dev/fuse) != 666 ]]; then
  DEV_FUSE_MODE=$(stat -c %a /dev/fuse) && chmod 666 /dev/fuse
fi
if mount_store c-pg 999 && mount_store c-app 10001; then
  mkdir_as "$W/c-pg.plain/d" 999 700; mkdir_as "$W/c-app.plain/d" 10001 700
  mkdir -m 700 "$W/c-pg.plain/restore" "$W/c-app.plain/restore"  # root's; owner = mount's uid
  run_case C uid999 999 "$W/c-pg.plain/d" root@pg-mount 0 "$W/c-pg.plain/restore" \
    uid10001 10001 "$W/c-app.plain/d" root@app-mount 0 "$W/c-app.plain/restore"
  for s in pg app; do
    echo "     owners of root-created files in c-$s mount (count uid:gid):" \
      "$(find "$W/c-$s.plain/restore" -type f -printf '%U:%G\n' | sort | uniq -c | xargs)"
  done
else
  echo "C     could not mount gocryptfs as a non-root user with $GC"
fi
