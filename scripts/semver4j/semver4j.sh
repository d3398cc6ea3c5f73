#!/usr/bin/env bash
# Regenerate tests/data/semver4j-6.0.0-pairs.tsv by running the real semver4j 6.0.0 (needs a JDK and git).
# Usage: bash scripts/semver4j/semver4j.sh [path to a semver4j git clone]   (cloned from GitHub if absent)
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
repo="${1:-$work/semver4j}"
[ -d "$repo" ] || git clone -q https://github.com/semver4j/semver4j "$repo"
git -C "$repo" archive v6.0.0 src/main/java | tar -x -C "$work"
# semver4j's only dependency is the jspecify annotations: two empty stand-ins compile it
mkdir -p "$work/stub/org/jspecify/annotations"
for name in Nullable NullMarked; do
  echo "package org.jspecify.annotations; public @interface $name {}" > "$work/stub/org/jspecify/annotations/$name.java"
done
find "$work/src" "$work/stub" -name '*.java' ! -name module-info.java ! -name package-info.java > "$work/files"
echo scripts/semver4j/Satisfies.java >> "$work/files"
javac -nowarn -d "$work/classes" @"$work/files"
{
  echo "# new Semver(version).satisfies(range) as computed by semver4j v6.0.0 (3f7cbf1); see scripts/semver4j/"
  python3 scripts/semver4j/pairs.py | java -cp "$work/classes" Satisfies
} > tests/data/semver4j-6.0.0-pairs.tsv
wc -l tests/data/semver4j-6.0.0-pairs.tsv
