#!/usr/bin/env bash
# Starts a real S3 server on loopback for the tests that need S3, with a
# temporary data directory and fixed test credentials.
#
#   source .ci/s3.sh    # start it and export the variables below into this
#                       # shell; it stops when the shell exits (an EXIT trap,
#                       # added to any trap already set), or earlier with s3_stop.
#                       # S3_NO_TRAP=1 leaves the stopping to you.
#   bash .ci/s3.sh      # start it in the foreground for a developer: prints
#                       # the export lines to paste into another shell, and
#                       # stops on Ctrl-C.
#   bash .ci/s3.sh --install   # only build and cache the server binary.
#
# Exports: SYLLABUS_S3_ENDPOINT (http://127.0.0.1:PORT), AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION; unsets AWS_SESSION_TOKEN, AWS_PROFILE and
# AWS_DEFAULT_REGION so that credentials of a real account never reach the
# test server. Sourcing does not change the caller's shell options.
#
# The server (S3_SERVER):
#   versitygw (default): the Versity S3 Gateway over a POSIX directory,
#     Apache-2.0, a semver release from the Go module proxy. A cold build takes
#     about 7 minutes on a busy 2-core machine (about 5 CPU-minutes).
#   minio: MinIO, built from the Go module proxy. It passes the same tests,
#     but a cold build took 17.5 minutes on the same machine (1,300 packages,
#     a 150 MB binary), it is AGPL-3.0, and its community edition publishes
#     no releases any more (only a pseudo-version of its main branch).
# Either binary is cached in .ci/tools (git-ignored); with a warm Go build
# cache a reinstall takes seconds.

S3_SERVER="${S3_SERVER:-versitygw}"
S3_VERSITYGW_VERSION="${S3_VERSITYGW_VERSION:-v1.8.0}"
S3_MINIO_VERSION="${S3_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"

_s3_fail() {
	echo "s3.sh: $*" >&2
	return 1
}

# s3_install builds the pinned server into .ci/tools unless it is there.
s3_install() {
	local root tools pkg version
	root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
	tools="$root/.ci/tools"
	case "$S3_SERVER" in
	versitygw) pkg=github.com/versity/versitygw/cmd/versitygw version="$S3_VERSITYGW_VERSION" ;;
	minio) pkg=github.com/minio/minio version="$S3_MINIO_VERSION" ;;
	*) _s3_fail "S3_SERVER=$S3_SERVER: want versitygw or minio" || return 1 ;;
	esac
	S3_SERVER_BIN="$tools/$S3_SERVER"
	if [[ -x "$S3_SERVER_BIN" && "$(cat "$S3_SERVER_BIN.version" 2>/dev/null)" == "$version" ]]; then
		return 0
	fi
	mkdir -p "$tools" || return 1
	echo "s3.sh: installing $pkg@$version into $tools (minutes on a cold Go build cache)" >&2
	local start=$SECONDS
	(cd "$tools" && GOBIN="$tools" GOFLAGS=-buildvcs=false go install "$pkg@$version") ||
		_s3_fail "go install $pkg@$version failed" || return 1
	echo "$version" >"$S3_SERVER_BIN.version"
	echo "s3.sh: installed $S3_SERVER in $((SECONDS - start))s" >&2
}

_s3_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null && return 0
	local port
	for _ in $(seq 50); do # no python3: pick ports at random until one is closed
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# s3_start starts the server and exports the variables; it waits until the
# server answers its readiness probe.
s3_start() {
	s3_install || return 1
	local port console
	port="$(_s3_free_port)" && console="$(_s3_free_port)" || _s3_fail "no free port on 127.0.0.1" || return 1
	S3_DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/syllabus-s3.XXXXXX")" || return 1
	S3_LOG="$S3_DATA_DIR.log"
	mkdir -p "$S3_DATA_DIR/data"

	export AWS_ACCESS_KEY_ID=syllabus-test
	export AWS_SECRET_ACCESS_KEY=syllabus-test-secret
	export AWS_REGION=us-east-1
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_REGION
	export SYLLABUS_S3_ENDPOINT="http://127.0.0.1:$port"

	local ready
	case "$S3_SERVER" in
	versitygw)
		ROOT_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" ROOT_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" \
			"$S3_SERVER_BIN" --port "127.0.0.1:$port" --region "$AWS_REGION" --health /health --quiet \
			posix "$S3_DATA_DIR/data" >"$S3_LOG" 2>&1 </dev/null &
		ready=/health
		;;
	minio)
		MINIO_ROOT_USER="$AWS_ACCESS_KEY_ID" MINIO_ROOT_PASSWORD="$AWS_SECRET_ACCESS_KEY" \
			MINIO_REGION="$AWS_REGION" MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CI_CD=1 \
			"$S3_SERVER_BIN" server --quiet --address "127.0.0.1:$port" \
			--console-address "127.0.0.1:$console" "$S3_DATA_DIR/data" >"$S3_LOG" 2>&1 </dev/null &
		ready=/minio/health/ready
		;;
	esac
	S3_PID=$!

	local deadline=$((SECONDS + 60))
	until curl -fsS -o /dev/null "$SYLLABUS_S3_ENDPOINT$ready" 2>/dev/null; do
		if ! kill -0 "$S3_PID" 2>/dev/null || ((SECONDS > deadline)); then
			echo "s3.sh: $S3_SERVER did not become ready on $SYLLABUS_S3_ENDPOINT; its log:" >&2
			cat "$S3_LOG" >&2
			s3_stop
			return 1
		fi
		sleep 0.2
	done
	echo "s3.sh: $S3_SERVER (pid $S3_PID) ready at $SYLLABUS_S3_ENDPOINT, data in $S3_DATA_DIR" >&2
}

# s3_stop stops the server started by s3_start and removes its data.
s3_stop() {
	if [[ -n "${S3_PID:-}" ]]; then
		kill "$S3_PID" 2>/dev/null || true
		wait "$S3_PID" 2>/dev/null || true
		S3_PID=
	fi
	if [[ -n "${S3_DATA_DIR:-}" ]]; then
		rm -rf "$S3_DATA_DIR" "$S3_DATA_DIR.log"
		S3_DATA_DIR=
	fi
	return 0
}

# _s3_exit_trap prints the command of the current EXIT trap, unquoted.
_s3_exit_trap() {
	local t
	t="$(trap -p EXIT)"
	[[ -n "$t" ]] || return 0
	eval "set -- $t" # trap -- 'command' EXIT
	printf '%s' "$3"
}

_s3_exports() {
	printf 'export %s=%q\n' SYLLABUS_S3_ENDPOINT "$SYLLABUS_S3_ENDPOINT" \
		AWS_ACCESS_KEY_ID "$AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY "$AWS_SECRET_ACCESS_KEY" \
		AWS_REGION "$AWS_REGION"
	echo 'unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_REGION'
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
	# Sourced.
	if s3_start; then
		if [[ "${S3_NO_TRAP:-}" != 1 ]]; then
			# Keep whatever EXIT trap the caller has, and stop the server after it.
			_s3_prev_trap="$(_s3_exit_trap)"
			# shellcheck disable=SC2064
			trap "${_s3_prev_trap:+$_s3_prev_trap; }s3_stop" EXIT
			unset _s3_prev_trap
		fi
		_s3_exports
	else
		return 1
	fi
elif [[ "${1:-}" == --install ]]; then
	# Only build the server, e.g. in the background while other tests run.
	s3_install || exit 1
else
	# Run as a program: serve until interrupted.
	s3_start || exit 1
	trap 's3_stop; exit 0' INT TERM
	trap s3_stop EXIT
	_s3_exports
	echo "s3.sh: paste the lines above into another shell; Ctrl-C stops the server" >&2
	wait "$S3_PID"
fi
