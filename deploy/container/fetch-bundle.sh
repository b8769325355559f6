#!/bin/sh
# fetch-bundle.sh SOURCE DEST SHA256
#
# The init step of the bucket-replication runner's container platforms: puts one artifact (the
# runner bundle, or its config) at DEST only if its SHA-256 is SHA256, atomically; otherwise exits
# non-zero and leaves nothing behind (no DEST, no temporary file). POSIX sh, so it runs in the
# official Node alpine image (busybox wget, gunzip, sha256sum) and in the AWS CLI image.
#
# SOURCE is
#   http://… or https://…   fetched with curl, else wget (5 attempts; FETCH_BUNDLE_ATTEMPTS);
#   s3://bucket/key         fetched with the AWS CLI (the task's or pod's own identity);
#   a file path             copied (e.g. a mounted ConfigMap key).
# A SOURCE ending in .gz is decompressed; the SHA-256 is that of the decompressed content.
#
# Every step checks its own status (no reliance on `set -e`, which POSIX ignores when the caller
# runs this inside an && list).
set -u

fail() {
  printf '{"event":"bucket-replication-fetch","status":"failed","dest":"%s","reason":"%s"}\n' "${dest:-}" "$1" >&2
  exit 1
}

if [ "$#" -ne 3 ]; then
  echo "usage: fetch-bundle.sh SOURCE DEST SHA256" >&2
  exit 2
fi
src=$1
dest=$2
sum=$3
case $sum in
  *[!0-9a-f]*) fail "SHA256 must be 64 lowercase hex digits" ;;
esac
[ "${#sum}" -eq 64 ] || fail "SHA256 must be 64 lowercase hex digits"
case $dest in
  */*) dir=${dest%/*} ;;
  *) dir=. ;;
esac
[ -n "$dir" ] || dir=/
mkdir -p "$dir" || fail "cannot create $dir"

tmp="$dest.download.$$"
raw="$tmp.raw"
cleanup() { rm -f "$tmp" "$raw"; }
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fetch_once() {
  rm -f "$raw"
  case $src in
    http://* | https://*)
      if command -v curl >/dev/null 2>&1; then
        curl -fsS --connect-timeout 10 --max-time 300 -o "$raw" "$src"
      elif command -v wget >/dev/null 2>&1; then
        wget -q -T 60 -O "$raw" "$src"
      else
        echo "fetch-bundle.sh: neither curl nor wget is installed" >&2
        return 1
      fi
      ;;
    s3://*) aws s3 cp --only-show-errors "$src" "$raw" ;;
    *) cp "$src" "$raw" ;;
  esac
}

attempts=${FETCH_BUNDLE_ATTEMPTS:-5}
attempt=1
until fetch_once; do
  [ "$attempt" -ge "$attempts" ] && fail "download failed after $attempt attempts"
  sleep $((attempt * 2))
  attempt=$((attempt + 1))
done
[ -s "$raw" ] || fail "downloaded file is empty"

case $src in
  *.gz) gunzip -c "$raw" >"$tmp" || fail "not a valid gzip file" ;;
  *) mv -f "$raw" "$tmp" || fail "cannot move the download into place" ;;
esac

actual=$(sha256sum "$tmp" | cut -d ' ' -f 1) || fail "sha256sum failed"
[ "$actual" = "$sum" ] || fail "sha256 mismatch: expected $sum, got $actual"
chmod 0644 "$tmp" || fail "chmod failed"
mv -f "$tmp" "$dest" || fail "cannot move into $dest"
printf '{"event":"bucket-replication-fetch","status":"ok","dest":"%s","sha256":"%s"}\n' "$dest" "$sum"
