#!/usr/bin/env bash
# Installs the pmisplicense processing module into a BILLmanager host (see README.md).
#
#   npm ci && ./install.sh                       install or update from a checkout (safe to run again)
#   npm ci --omit=dev && ./install.sh            the same from a packed release (npm run release):
#                                                no dev toolchain, dist/ installed as shipped
#   ./install.sh --uninstall                     remove the module, keep its database and log
#
# Environment: MGR_ROOT (default /usr/local/mgr5), PMISPLICENSE_CRON_DIR (default /etc/cron.d),
# PMISPLICENSE_LOGROTATE_DIR (default /etc/logrotate.d).
# Everything is copied from this checkout: no network access is needed.
set -euo pipefail
umask 022

NAME=pmisplicense
ME="install.sh"

usage() {
  cat <<'EOF'
Usage: ./install.sh [--force] [--uninstall] [--help]

Installs the pmisplicense BILLmanager processing module from this checkout (run
`npm ci` first; the script builds dist/ itself when it is missing or older than src/),
or from a packed release (`npm run release`; run `npm ci --omit=dev` first: no dev
toolchain is needed, dist/ is installed as shipped).

  (no option)    install or update; safe to run again, never touches the module's data
  --force        install into a MGR_ROOT that has no sbin/mgrctl (no BILLmanager found there)
  --uninstall    remove the executable, its runtime files, the module and panel XML, the
                 panel handler, the cron and logrotate entries; KEEPS var/pmisplicense.db
                 (the pool of paid licenses) and the log
  -h, --help     this text

Installed layout ($MGR_ROOT defaults to /usr/local/mgr5):
  $MGR_ROOT/lib/pmisplicense/            runtime: dist/, package.json, node_modules/
  $MGR_ROOT/processing/pmisplicense      symlink to lib/pmisplicense/dist/pmisplicense
  $MGR_ROOT/etc/xml/billmgr_mod_pmisplicense.xml
  $MGR_ROOT/etc/xml/billmgr_mod_pmisplicense_panel.xml   panel pages (when in the checkout)
  $MGR_ROOT/addon/pmisplicense_panel     panel pages' handler (mode 0750): runs `pmisplicense panel`
  $MGR_ROOT/var/pmisplicense.db          state (created empty if missing, mode 0600)
  $MGR_ROOT/var/pmisplicense.log         log (created empty if missing, mode 0600)
  $PMISPLICENSE_CRON_DIR/pmisplicense    daily `pmisplicense maintain` (default /etc/cron.d);
                                         its stdout is dropped, its stderr (failures) mailed by cron
  $PMISPLICENSE_LOGROTATE_DIR/pmisplicense   weekly rotation of the log (default /etc/logrotate.d)

BILLmanager is reloaded with `$MGR_ROOT/sbin/mgrctl -m billmgr -R` when that exists.
EOF
}

MODE=install
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --uninstall) MODE=uninstall ;;
    --force) FORCE=1 ;;
    -h | --help) usage; exit 0 ;;
    *) printf '%s: unknown option: %s (see --help)\n' "$ME" "$arg" >&2; exit 2 ;;
  esac
done

say() { printf '%s: %s\n' "$ME" "$*"; }
warn() { printf '%s: warning: %s\n' "$ME" "$*" >&2; }
die() { printf '%s: error: %s\n' "$ME" "$*" >&2; exit 1; }

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MGR_ROOT="${MGR_ROOT:-/usr/local/mgr5}"
MGR_ROOT="${MGR_ROOT%/}"
CRON_DIR="${PMISPLICENSE_CRON_DIR:-/etc/cron.d}"
CRON_DIR="${CRON_DIR%/}"
LOGROTATE_DIR="${PMISPLICENSE_LOGROTATE_DIR:-/etc/logrotate.d}"
LOGROTATE_DIR="${LOGROTATE_DIR%/}"

# The paths go into a symlink and a crontab line: keep them absolute and free of characters that
# cron or a shell would interpret (spaces, %, quotes).
for p in "$MGR_ROOT" "$CRON_DIR" "$LOGROTATE_DIR"; do
  [[ "$p" =~ ^/[A-Za-z0-9._/+@-]*$ ]] || die "'$p' must be an absolute path made of letters, digits and . _ / + @ -"
done

LIB="$MGR_ROOT/lib/$NAME"
LINK="$MGR_ROOT/processing/$NAME"
XML_NAME="billmgr_mod_$NAME.xml"
XML="$MGR_ROOT/etc/xml/$XML_NAME"
PANEL_XML_NAME="billmgr_mod_${NAME}_panel.xml"
PANEL_XML="$MGR_ROOT/etc/xml/$PANEL_XML_NAME"
PANEL_HANDLER="$MGR_ROOT/addon/${NAME}_panel"
LOGROTATE="$LOGROTATE_DIR/$NAME"
DB="$MGR_ROOT/var/$NAME.db"
LOG="$MGR_ROOT/var/$NAME.log"
CRON="$CRON_DIR/$NAME"
MGRCTL="$MGR_ROOT/sbin/mgrctl"

IS_ROOT=0
if [ "$(id -u)" -eq 0 ]; then IS_ROOT=1; fi
own_root() { if [ "$IS_ROOT" -eq 1 ]; then chown root:root "$@"; fi; }
own_root_tree() { if [ "$IS_ROOT" -eq 1 ]; then chown -R root:root "$@"; fi; }

STAGE=""
CRON_TMP=""
HANDLER_TMP=""
ROTATE_TMP=""
cleanup() {
  if [ -n "$STAGE" ]; then rm -rf "$STAGE"; fi
  if [ -n "$CRON_TMP" ]; then rm -f "$CRON_TMP"; fi
  if [ -n "$HANDLER_TMP" ]; then rm -f "$HANDLER_TMP"; fi
  if [ -n "$ROTATE_TMP" ]; then rm -f "$ROTATE_TMP"; fi
}
trap cleanup EXIT

reload_billmgr() {
  if [ -x "$MGRCTL" ]; then
    if "$MGRCTL" -m billmgr -R; then
      say "reloaded BILLmanager ($MGRCTL -m billmgr -R)"
    else
      warn "BILLmanager reload failed; run '$MGRCTL -m billmgr -R' yourself"
    fi
  else
    say "BILLmanager not found at $MGRCTL: nothing to reload"
  fi
}

# ---------------------------------------------------------------------------------------------
if [ "$MODE" = uninstall ]; then
  if [ -L "$LINK" ] || [ -f "$LINK" ]; then
    rm -f "$LINK"
    say "removed $LINK"
  fi
  for d in "$LIB" "$MGR_ROOT/lib/.$NAME".*; do
    if [ -e "$d" ] || [ -L "$d" ]; then
      rm -rf "$d"
      say "removed $d"
    fi
  done
  for f in "$XML" "$PANEL_XML" "$PANEL_HANDLER" "$CRON" "$LOGROTATE"; do
    if [ -e "$f" ] || [ -L "$f" ]; then
      rm -f "$f"
      say "removed $f"
    fi
  done
  for f in "$DB" "$LOG"; do
    if [ -e "$f" ]; then say "kept $f"; fi
  done
  say "the database and the log are kept on purpose: the database holds the pool of paid licenses"
  say "and the period rules. Delete them yourself only once you no longer need those licenses."
  reload_billmgr
  say "uninstalled"
  exit 0
fi

# --------------------------------------------------------------------------- install: preflight
# A mistyped MGR_ROOT would get a module, a cron job and a log rotation that nothing uses.
if [ ! -e "$MGRCTL" ]; then
  if [ "$FORCE" -eq 1 ]; then
    warn "$MGR_ROOT has no sbin/mgrctl (no BILLmanager there); installing anyway (--force)"
  else
    die "$MGR_ROOT has no sbin/mgrctl: it does not look like a BILLmanager installation. Set MGR_ROOT to BILLmanager's directory (default /usr/local/mgr5), or run with --force to install there anyway"
  fi
fi
if [ "$IS_ROOT" -ne 1 ]; then
  warn "not running as root: installed files will belong to $(id -un), not root"
fi
# BILLmanager starts the module with its own PATH, which need not contain node (SPEC 5.9): every
# installed entry point (the executable, the panel handler, cron) names this node by absolute path.
command -v node >/dev/null 2>&1 || die "node (Node.js 20.19 or later) is not in PATH"
NODE="$(command -v node)"
case "$NODE" in
  /*) ;;
  *) NODE="$(cd "$(dirname "$NODE")" && pwd)/$(basename "$NODE")" ;; # a relative PATH entry
esac
# It goes into a '#!' line: absolute, no blanks or characters a shell or the kernel would split on,
# and short enough for the kernel's limit on that line (127 bytes on older kernels).
[[ "$NODE" =~ ^/[A-Za-z0-9._/+@-]*$ ]] || die "the node found in PATH ($NODE) has a path with characters a '#!' line cannot hold; put a node whose path is made of letters, digits and . _ / + @ - first in PATH"
[ "${#NODE}" -le 120 ] || die "the path of the node found in PATH ($NODE) is too long for a '#!' line (at most 120 characters)"
[ -x "$NODE" ] || die "$NODE is not executable"
NODE_VERSION="$("$NODE" --version 2>/dev/null)" || die "$NODE does not run"
"$NODE" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
  die "Node.js 20.19 or later is required ($NODE is $NODE_VERSION)"
say "using Node.js $NODE_VERSION at $NODE"

cd "$SRC"
[ -f package.json ] || die "$SRC is not a pmisplicense checkout (no package.json)"
# Two ways in: a packed release (`npm run release`: RELEASE marker, dist/ built, no sources), which
# needs only the runtime dependencies (`npm ci --omit=dev`) and is installed as shipped; or a
# checkout, which builds dist/ when needed and so needs the dev toolchain (`npm ci`).
RELEASE=0
if [ -f RELEASE ] && [ ! -d src ]; then RELEASE=1; fi
if [ "$RELEASE" -eq 1 ]; then
  [ -d node_modules ] || die "node_modules is missing: run 'npm ci --omit=dev' in $SRC first (a release needs only the runtime dependencies)"
  [ -f dist/$NAME ] || die "this release has no dist/$NAME: unpack the release again (or build it with npm run release)"
  say "installing the packed release in $SRC (dist/ as shipped; no build)"
fi
[ -d node_modules ] || die "node_modules is missing: run 'npm ci' in $SRC first"
# Never install a dist/ older than the sources it was built from (a `git pull` without a build).
WHY_BUILD=""
if [ "$RELEASE" -eq 1 ]; then
  : # a release ships its dist/ and no sources: nothing to compare, nothing to build with
elif [ ! -f dist/$NAME ]; then
  WHY_BUILD="dist/$NAME is missing"
else
  NEWER="$(find src scripts/build.mjs package.json -newer dist/$NAME -type f -print 2>/dev/null | head -n 1)"
  if [ -n "$NEWER" ]; then WHY_BUILD="dist/ is older than the sources ($NEWER changed since the last build)"; fi
fi
if [ -n "$WHY_BUILD" ]; then
  say "$WHY_BUILD: building it (npm run build)"
  command -v npm >/dev/null 2>&1 || die "$WHY_BUILD and npm is not in PATH to build it: run 'npm ci && npm run build' in $SRC, then install again"
  npm run build >&2 || die "$WHY_BUILD and 'npm run build' failed (see above); run 'npm ci' in $SRC (the build needs the dev dependencies), then install again"
  [ -f dist/$NAME ] || die "the build did not produce dist/$NAME"
fi
[ -f "etc/xml/$XML_NAME" ] || die "etc/xml/$XML_NAME is missing from $SRC"
[ -f "etc/logrotate.d/$NAME" ] || die "etc/logrotate.d/$NAME is missing from $SRC"

# A broken module XML would break BILLmanager's interface: check it before touching anything, with
# the parser the module reads XML with (saxes, a runtime dependency: no dev dependency needed),
# as strictly (XML 1.0, no DOCTYPE, no lone surrogate).
check_xml() {
  "$NODE" -e '
    const file = process.argv[2];
    const { SaxesParser } = require(process.argv[1] + "/node_modules/saxes");
    const text = require("fs").readFileSync(file, "utf8");
    const p = new SaxesParser({ defaultXMLVersion: "1.0", forceXMLVersion: true });
    p.on("doctype", () => p.fail("a DOCTYPE is refused"));
    try {
      if (!text.isWellFormed()) throw new Error("a lone surrogate, which is no character");
      p.write(text).close();
    } catch (e) {
      console.error(`${file}: ${e.message}`);
      process.exit(1);
    }
  ' "$SRC" "$1"
}
check_xml "etc/xml/$XML_NAME" || die "etc/xml/$XML_NAME is not well-formed XML"
HAS_PANEL_XML=0
if [ -f "etc/xml/$PANEL_XML_NAME" ]; then
  HAS_PANEL_XML=1
  check_xml "etc/xml/$PANEL_XML_NAME" || die "etc/xml/$PANEL_XML_NAME is not well-formed XML"
fi

# The runtime packages the bundle leaves external (bare imports in dist/), with their runtime
# dependencies, as paths relative to node_modules/. prebuild-install is only used by
# better-sqlite3's own install step (the addon is already built), so it is not shipped.
PACKAGES="$("$NODE" -e '
  const fs = require("fs"), path = require("path"), { builtinModules } = require("module");
  const src = process.argv[1], nm = path.join(src, "node_modules");
  const installOnly = new Set(["prebuild-install"]);
  const roots = new Set(["better-sqlite3"]);
  const files = [];
  (function walk(d) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else if (e.isFile()) files.push(p);
    }
  })(path.join(src, "dist"));
  const res = [/\bfrom\s*["\x27]([^"\x27]+)["\x27]/g, /\bimport\s*\(?\s*["\x27]([^"\x27]+)["\x27]/g,
               /\brequire\s*\(\s*["\x27]([^"\x27]+)["\x27]\s*\)/g];
  for (const f of files) {
    const text = fs.readFileSync(f, "utf8");
    for (const re of res) for (const m of text.matchAll(re)) {
      const spec = m[1];
      if (/^(\.|\/|node:|data:|file:)/.test(spec)) continue;
      const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
      if (builtinModules.includes(name) || builtinModules.includes(spec)) continue;
      if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) continue;
      roots.add(name);
    }
  }
  // Find a package the way Node does: nearest node_modules from the requiring package upwards.
  function locate(name, fromDir) {
    for (let d = fromDir; ; d = path.dirname(d)) {
      if (path.basename(d) !== "node_modules") {
        const c = path.join(d, "node_modules", name);
        if (fs.existsSync(path.join(c, "package.json"))) return c;
      }
      if (d === src || d === path.dirname(d)) return null;
    }
  }
  const out = new Set(), queue = [];
  for (const r of roots) {
    const dir = locate(r, src);
    if (!dir) { console.error(`dist/ imports "${r}" but node_modules/${r} is missing: run npm ci`); process.exit(1); }
    queue.push(dir);
  }
  while (queue.length) {
    const dir = queue.shift();
    const rel = path.relative(nm, dir);
    if (out.has(rel)) continue;
    out.add(rel);
    const pj = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    const deps = { ...(pj.dependencies || {}), ...(pj.optionalDependencies || {}) };
    for (const dep of Object.keys(deps)) {
      if (installOnly.has(dep)) continue;
      const d = locate(dep, dir);
      if (d) queue.push(d);
      else if (!(pj.optionalDependencies || {})[dep]) { console.error(`${rel} needs "${dep}", missing from node_modules: run npm ci`); process.exit(1); }
    }
  }
  console.log([...out].sort().join("\n"));
' "$SRC")" || die "could not work out the runtime packages"

# ------------------------------------------------------------------------ install: stage lib/
mkdir -p "$MGR_ROOT/lib" "$MGR_ROOT/processing" "$MGR_ROOT/etc/xml" "$MGR_ROOT/var" "$MGR_ROOT/addon" "$CRON_DIR" "$LOGROTATE_DIR"
STAGE="$(mktemp -d "$MGR_ROOT/lib/.$NAME.new.XXXXXX")"
cp -R "$SRC/dist" "$STAGE/dist"
cp "$SRC/package.json" "$STAGE/package.json"
mkdir -p "$STAGE/node_modules"
while IFS= read -r rel; do
  [ -n "$rel" ] || continue
  from="$SRC/node_modules/$rel"
  to="$STAGE/node_modules/$rel"
  mkdir -p "$to"
  # Nested node_modules are listed (and copied) on their own when they are needed.
  (cd "$from" && tar --exclude=./node_modules -cf - .) | (cd "$to" && tar -xf -)
  if [ -f "$to/binding.gyp" ]; then
    # A native addon: ship the built .node files, not the sources and build tree.
    rm -rf "$to/deps" "$to/src"
    if [ -d "$to/build" ]; then
      while IFS= read -r -d '' f; do
        case "$f" in
          "$to/build/Release/"*.node | "$to/build/Debug/"*.node)
            # keep build/Release/x.node, drop build/Release/obj.target/x.node
            case "${f#"$to/build/"*/}" in */*) ;; *) continue ;; esac ;;
        esac
        rm -f "$f"
      done < <(find "$to/build" -mindepth 1 \( -type f -o -type l \) -print0)
      find "$to/build" -mindepth 1 -depth -type d -empty -delete
    fi
  fi
  say "staged runtime package $rel"
done <<<"$PACKAGES"
# The executables name the node they were installed with, not whatever `env node` finds (BILLmanager's
# PATH may have none: exit 127 on every order). The build's '#!/usr/bin/env node' line is replaced.
for exe in "$STAGE/dist/$NAME" "$STAGE/dist/sandbox-mgrctl"; do
  [ -f "$exe" ] || continue
  head -n 1 "$exe" | grep -q '^#!' || die "$exe has no '#!' line to point at $NODE"
  { printf '#!%s\n' "$NODE"; tail -n +2 "$exe"; } >"$exe.tmp" && mv -f "$exe.tmp" "$exe"
done
chmod -R u+rwX,go+rX,go-w "$STAGE"
chmod 0755 "$STAGE" "$STAGE/dist/$NAME"
if [ -f "$STAGE/dist/sandbox-mgrctl" ]; then chmod 0755 "$STAGE/dist/sandbox-mgrctl"; fi
own_root_tree "$STAGE"

# Data files: created if missing, never truncated (the database holds the pool of paid licenses).
for f in "$DB" "$LOG"; do
  if [ -e "$f" ]; then
    chmod 0600 "$f"
    own_root "$f"
    say "kept existing $f (mode 0600)"
  else
    (umask 077 && : >>"$f")
    chmod 0600 "$f"
    own_root "$f"
    say "created $f (mode 0600)"
  fi
done

# Check the staged copy before it replaces anything: the native addon loads with this Node, the
# external packages resolve inside lib/, and the executable answers `features`.
(cd "$STAGE" && "$NODE" -e '
  const { createRequire } = require("module"), path = require("path");
  const stage = process.cwd(), req = createRequire(path.join(stage, "dist", "pmisplicense"));
  for (const rel of process.argv[1].split("\n").filter(Boolean)) {
    if (rel.includes("/node_modules/")) continue;
    const where = req.resolve(rel);
    if (!where.startsWith(path.join(stage, "node_modules") + path.sep)) throw new Error(`${rel} resolves outside lib/: ${where}`);
  }
  if (process.argv[1].split("\n").includes("better-sqlite3")) {
    const Database = req("better-sqlite3");
    const db = new Database(":memory:");
    db.prepare("select 1").get();
    db.close();
  }
' "$PACKAGES") || die "the staged runtime does not load with $NODE (was npm ci run with this Node?)"
# Run as BILLmanager may run it: directly, with a PATH that has no node.
FEATURES="$(env -i PATH=/nonexistent MGR_ROOT="$MGR_ROOT" PMISPLICENSE_LOG=/dev/null "$STAGE/dist/$NAME" --command features </dev/null)" ||
  die "the staged executable failed on '--command features' when run with a PATH that has no node"
case "$FEATURES" in
  *'<feature name="open"/>'*) say "checked: '$NAME --command features' answers, without node in PATH" ;;
  *) die "the staged executable printed no features document" ;;
esac
VERSION="$(env -i PATH=/nonexistent "$STAGE/dist/$NAME" --version </dev/null)" || die "the staged executable failed on '--version'"

# ---------------------------------------------------------------------- install: put in place
OLD=""
if [ -e "$LIB" ] || [ -L "$LIB" ]; then
  OLD="$MGR_ROOT/lib/.$NAME.old.$$"
  mv "$LIB" "$OLD"
fi
mv "$STAGE" "$LIB"
STAGE=""
if [ -n "$OLD" ]; then
  rm -rf "$OLD"
  say "updated $LIB"
else
  say "installed $LIB"
fi

if [ -d "$LINK" ] && [ ! -L "$LINK" ]; then
  die "$LINK is a directory; remove it and run again"
fi
ln -sfn "$LIB/dist/$NAME" "$LINK"
if [ "$IS_ROOT" -eq 1 ]; then chown -h root:root "$LINK"; fi
say "linked $LINK -> $LIB/dist/$NAME (mode 0755)"

install -m 0644 "$SRC/etc/xml/$XML_NAME" "$XML"
own_root "$XML"
say "installed $XML"

# The panel pages (SPEC 8): their XML and the handler COREmanager runs for them.
if [ "$HAS_PANEL_XML" -eq 1 ]; then
  install -m 0644 "$SRC/etc/xml/$PANEL_XML_NAME" "$PANEL_XML"
  own_root "$PANEL_XML"
  say "installed $PANEL_XML"
fi
HANDLER_TMP="$(mktemp "$MGR_ROOT/addon/.${NAME}_panel.XXXXXX")"
cat >"$HANDLER_TMP" <<EOF
#!/bin/sh
# pmisplicense: the handler of the panel pages (SPEC 8); COREmanager gives the request in the
# environment and on stdin. Installed by install.sh; removed by install.sh --uninstall.
MGR_ROOT='$MGR_ROOT'
PATH='$(dirname "$NODE")':\$PATH
export MGR_ROOT PATH
exec '$LINK' panel "\$@"
EOF
chmod 0750 "$HANDLER_TMP"
own_root "$HANDLER_TMP"
mv -f "$HANDLER_TMP" "$PANEL_HANDLER"
HANDLER_TMP=""
say "installed $PANEL_HANDLER (mode 0750: runs $LINK panel)"

# Daily maintenance: renewals, missing keys, expired pool licenses (SPEC 5.7). The minute is
# derived from the host name so that providers do not all call the licensing server at once.
HOST="$(hostname 2>/dev/null || uname -n)"
SUM="$(printf '%s' "$HOST" | cksum)"
MINUTE=$((${SUM%% *} % 60))
CRON_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
case ":$CRON_PATH:" in
  *":$(dirname "$NODE"):"*) ;;
  *) CRON_PATH="$(dirname "$NODE"):$CRON_PATH" ;; # the node this module was installed with
esac
CRON_TMP="$(mktemp "$CRON_DIR/.$NAME.XXXXXX")"
cat >"$CRON_TMP" <<EOF
# pmisplicense: daily maintenance of ISPsystem licenses (renewal, missing keys, expired pool
# licenses). Installed by install.sh; removed by install.sh --uninstall. Log: $LOG
SHELL=/bin/sh
PATH=$CRON_PATH
MGR_ROOT=$MGR_ROOT
# stdout (the summary) is dropped; stderr (one line per failure) is kept, so cron mails it.
$MINUTE 4 * * * root $LINK maintain >/dev/null
EOF
chmod 0644 "$CRON_TMP"
own_root "$CRON_TMP"
mv -f "$CRON_TMP" "$CRON"
CRON_TMP=""
say "installed $CRON (daily at 04:$(printf '%02d' "$MINUTE"): $LINK maintain; failures are mailed by cron)"

# Log rotation: the module opens its log afresh in every process, so a plain rename is enough.
LOG_OWNER="root root"
if [ "$IS_ROOT" -ne 1 ]; then LOG_OWNER="$(id -un) $(id -gn)"; fi
ROTATE_TMP="$(mktemp "$LOGROTATE_DIR/.$NAME.XXXXXX")"
sed -e "s|@LOG@|$LOG|g" -e "s|@OWNER@|$LOG_OWNER|g" "$SRC/etc/logrotate.d/$NAME" >"$ROTATE_TMP"
chmod 0644 "$ROTATE_TMP"
own_root "$ROTATE_TMP"
mv -f "$ROTATE_TMP" "$LOGROTATE"
ROTATE_TMP=""
say "installed $LOGROTATE (rotates $LOG)"

reload_billmgr
say "installed pmisplicense $VERSION into $MGR_ROOT"
say "done. Next: add the processing module in BILLmanager (Integration → Processing modules → Add,"
say "product type \"ISPsystem licenses\"); see README.md"
