# Sourced by bin/tandem, bin/test and .ci/run: sets JAVA_HOME to a JDK 25 or newer.
# Order: $JAVA_HOME if it is 25+, then `java` on PATH, then the newest JDK under /usr/lib/jvm.

tandem_java_major() {
  # Prints the feature version of the java binary $1, or nothing.
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

tandem_find_jdk() {
  local candidates=() dir major
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for dir in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    candidates+=("${dir%/}")
  done
  for dir in "${candidates[@]}"; do
    [ -x "$dir/bin/java" ] && [ -x "$dir/bin/javac" ] || continue
    major=$(tandem_java_major "$dir/bin/java")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

if ! TANDEM_JDK=$(tandem_find_jdk); then
  echo "tandem needs a JDK 25 or newer (Vector API, FFM); none found in JAVA_HOME, on PATH or under /usr/lib/jvm." >&2
  echo "Install one (e.g. a Temurin 25 JDK) and set JAVA_HOME to it." >&2
  exit 1
fi
export JAVA_HOME="$TANDEM_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
