/**
 * The host side of the content-addressed caches (`code/<snapshot>`, `data/<version hash>`)
 * and of a job's private workspace. The bash is embedded in template literals: read `\${`
 * as `${` and `\\` as `\`.
 */
import { SAY_SH } from './sh-shared.ts';

/** `cache.sh ACTION DIR [DIGEST]`: is a cache folder still what was sealed? */
export const CACHE_SH = `#!/usr/bin/env bash
# Keel: cache.sh ACTION DIR [DIGEST] — the content-addressed cache folders on this host.
#
# A folder is trusted only while sealed: DIR/.keel-complete holds the digest of its listing
# (each entry's path, size, modification and change times, and inode), taken after the
# daemon checked the folder's content against the hash it is named by. Any write since — an
# edited script, a file written next to the data, a truncated file, even one whose mtime was
# put back — changes the listing, and the folder is hashed again (and re-synced when its
# content differs) before anything uses it.
#   check DIR…       KEEL_CACHE absent|ok|changed DIR, for each DIR (stat only, cheap)
#   hash DIR         KEEL_DIGEST D, then for every file (links followed)
#                    KEEL_STAT SIZE x|- PATH and KEEL_SHA HEX PATH (PATH escaped as in Keel's
#                    manifests: \\\\ \\n \\r), then KEEL_CHANGED if it changed while being hashed
#   seal DIR DIGEST  files made read-only, then .keel-complete written, if the listing is
#                    still DIGEST: KEEL_SEAL ok | changed
#   drop DIR         removes DIR: KEEL_DROPPED
# Each answer ends with KEEL_END.

set -u
umask 077
${SAY_SH}
action=\${1:?usage: cache.sh check|hash|seal|drop DIR [DIGEST]}
dir=\${2:?usage: cache.sh check|hash|seal|drop DIR [DIGEST]}
marker=$dir/.keel-complete

listing_digest() {
  (cd -- "$dir" 2>/dev/null && find -L . -mindepth 1 ! -path ./.keel-complete ! -path ./.keel-complete.tmp -printf '%P\\t%s\\t%T@\\t%C@\\t%i\\0' 2>/dev/null) |
    LC_ALL=C sort -z | sha256sum | cut -c1-64
}

# esc PATH: sets ESC to PATH with \\, newline and carriage return escaped.
esc() {
  ESC=\${1//\\\\/\\\\\\\\}
  ESC=\${ESC//$'\\n'/\\\\n}
  ESC=\${ESC//$'\\r'/\\\\r}
}

files() { (cd -- "$dir" && find -L . -mindepth 1 -type f ! -path ./.keel-complete ! -path ./.keel-complete.tmp "$@"); }

hash_dir() {
  local before rec size mode x hex p
  before=$(listing_digest)
  say DIGEST "$before"
  while IFS= read -r -d '' rec; do
    size=\${rec%% *}; rec=\${rec#* }; mode=\${rec%% *}; p=\${rec#* }
    x=-; (( 8#$mode & 8#111 )) && x=x
    esc "$p"; say STAT "$size $x $ESC"
  done < <(files -printf '%s %m %P\\0')
  if sha256sum -z /dev/null >/dev/null 2>&1; then
    # -z: NUL-terminated lines, file names not escaped.
    while IFS= read -r -d '' rec; do
      hex=\${rec%%  *}; p=\${rec#*  }; p=\${p#./}
      esc "$p"; say SHA "$hex $ESC"
    done < <(cd -- "$dir" && find -L . -mindepth 1 -type f ! -path ./.keel-complete ! -path ./.keel-complete.tmp -print0 | xargs -0 -r sha256sum -z --)
  else
    while IFS= read -r -d '' p; do
      hex=$(sha256sum < "$dir/$p" | cut -c1-64)
      esc "$p"; say SHA "$hex $ESC"
    done < <(files -printf '%P\\0')
  fi
  [ "$(listing_digest)" = "$before" ] || say CHANGED
}

case $action in
  check)
    shift
    for dir in "$@"; do
      marker=$dir/.keel-complete
      if [ ! -f "$marker" ]; then state=absent
      elif [ "$(cat -- "$marker")" = "$(listing_digest)" ]; then state=ok
      else state=changed; fi
      esc "$dir"; say CACHE "$state $ESC"
    done ;;
  hash)
    [ -d "$dir" ] || { say MISSING; say END; exit 0; }
    hash_dir ;;
  seal)
    if [ "$(listing_digest)" != "\${3:-}" ]; then say SEAL changed
    else
      # Read-only: a job of a user other than root cannot write into the cache by mistake
      # (root can; the seal catches that). Folders stay writable so the owner can delete them.
      find "$dir" -type f ! -name .keel-complete -exec chmod a-w {} + 2>/dev/null
      # The digest first, then the file: a marker.tmp in the folder would be part of the listing.
      digest=$(listing_digest)
      printf '%s\\n' "$digest" > "$marker.tmp" && mv -f -- "$marker.tmp" "$marker" && say SEAL ok
    fi ;;
  drop)
    chmod -R u+w -- "$dir" 2>/dev/null
    rm -rf -- "$dir" && say DROPPED ;;
  *) say ERROR "unknown action $action" ;;
esac
say END
`;

/** `workspace.sh JOBDIR CODE_DIR [KIND PATH SOURCE]…`: the job's private working tree. */
export const WORKSPACE_SH = `#!/usr/bin/env bash
# Keel: workspace.sh JOBDIR CODE_DIR [KIND PATH SOURCE]… — build JOBDIR/work, the tree the
# job runs in: a private, writable copy of the code snapshot CODE_DIR, with each dataset at
# PATH (relative to the project) — KIND "file": a link to the one file in the cache folder
# SOURCE; KIND "folder": real folders holding a link per file of SOURCE, so files the job
# writes next to its data land in its own folders, never in the cache. A job can still
# write through a link into a cached file; the caches are read-only for non-root users, and
# cache.sh's seal catches the rest. Built in JOBDIR/work.tmp and renamed into place with
# mv -T (never into a folder of that name); a finished one is kept (idempotent). Also puts
# run.sh (the wrapper, from the folder of this script) into JOBDIR.
# Prints KEEL_WORKSPACE built | ready, or KEEL_ERROR WHY; then KEEL_END.

set -u
umask 077
${SAY_SH}
jobdir=\${1:?usage: workspace.sh JOBDIR CODE_DIR [KIND PATH SOURCE]...}
code=\${2:?usage: workspace.sh JOBDIR CODE_DIR [KIND PATH SOURCE]...}
shift 2
ws=$jobdir/work
tmp=$jobdir/work.tmp
fail() { say ERROR "$*"; say END; exit 0; }

{ cp -- "$(dirname -- "$0")/run.sh" "$jobdir/run.sh.tmp" && mv -f -- "$jobdir/run.sh.tmp" "$jobdir/run.sh"; } || fail "cannot put run.sh into $jobdir"
if [ -e "$ws/.keel-ready" ]; then say WORKSPACE ready; say END; exit 0; fi
[ -d "$code" ] || fail "no code snapshot at $code"
{ rm -rf -- "$tmp" && mkdir -p -- "$tmp"; } || fail "cannot create $tmp"
cp -a -- "$code/." "$tmp/" || fail "cannot copy $code"
rm -f -- "$tmp/.keel-complete"
chmod -R u+w -- "$tmp" || fail "cannot make $tmp writable"
while [ $# -ge 3 ]; do
  kind=$1 rel=$2 src=$3
  shift 3
  case /$rel/ in */../*|//*) fail "dataset path $rel leaves the workspace" ;; esac
  dest=$tmp/$rel
  { mkdir -p -- "$(dirname -- "$dest")" && rm -rf -- "$dest"; } || fail "cannot make room for $rel"
  case $kind in
    file)
      found=("$src"/*)
      { [ \${#found[@]} -eq 1 ] && [ -f "\${found[0]}" ]; } || fail "the data cache $src does not hold exactly one file"
      ln -s -- "\${found[0]}" "$dest" || fail "cannot link $rel" ;;
    folder)
      cp -as -- "$src" "$dest" || fail "cannot link the files of $src"
      rm -f -- "$dest/.keel-complete" ;;
    *) fail "unknown dataset kind $kind" ;;
  esac
done
touch "$tmp/.keel-ready"
rm -rf -- "$ws"
mv -T -- "$tmp" "$ws" || fail "cannot move $tmp to $ws"
say WORKSPACE built
say END
`;
