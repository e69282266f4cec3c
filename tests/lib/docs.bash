# docs.bash: reads Markdown the way tests/docs.bats needs it: the fenced
# blocks with their marks, the code in them and in inline spans, the names
# they use (make targets, paths, environment variables), and runs the
# runnable blocks of a file against its servers in a namespace of its own.
# The marking convention is at the top of tests/docs.bats. Needs
# lib/common.bash and lib/netns.bash.
# shellcheck disable=SC2034 # DOCS_* are read by tests/docs.bats
# shellcheck disable=SC2016 # the backticks are Markdown's, not the shell's

# The shell blocks' marks, after ```sh: what the suite does with each.
DOCS_MARKS="run server cluster no-run"
# Commands a cluster block may name without their being installed here:
# the tools the docs ask a reader to install for minikube.
DOCS_CLUSTER_TOOLS="minikube kubectl skaffold docker"
# Variables every shell has; the docs may use them without the code.
DOCS_STANDARD_VARIABLES="HOME PATH PWD SHELL TERM USER LANG"

# Prints the Markdown files the suite reads: README.md and docs/*.md.
docs_files() {
	local file
	echo README.md
	for file in "$REPO_DIR"/docs/*.md; do
		[[ -f "$file" ]] && echo "docs/${file##*/}"
	done
	return 0
}

# Splits the fenced blocks of Markdown file $1 into directory $2: for the
# Nth block, N.meta holds "LINE<TAB>LANGUAGE<TAB>MARK" (LINE of the opening
# fence, MARK "run" when none is given, without a trailing colon) and N.text
# its lines.
docs_extract() {
	local file="$1" dir="$2"
	mkdir -p "$dir"
	awk -v dir="$dir" '
		/^[ ]*```/ {
			if (!inside) {
				inside = 1
				n++
				info = $0
				sub(/^ *```/, "", info)
				split(info, word, /[[:space:]]+/)
				mark = (word[2] == "" ? "run" : word[2])
				sub(/:$/, "", mark)
				printf "%d\t%s\t%s\n", NR, word[1], mark > (dir "/" n ".meta")
				printf "" > (dir "/" n ".text")
			} else {
				inside = 0
			}
			next
		}
		inside { print > (dir "/" n ".text") }' "$REPO_DIR/$file"
}

# Prints the numbers of the extracted blocks in directory $1, in order.
docs_blocks() {
	local meta
	for meta in "$1"/*.meta; do
		[[ -f "$meta" ]] || continue
		meta="${meta##*/}"
		echo "${meta%.meta}"
	done | sort -n
}

# Succeeds when block $2 in directory $1 is a shell block.
docs_is_shell() {
	local language
	language="$(cut -f2 "$1/$2.meta")"
	[[ "$language" == sh || "$language" == bash || "$language" == shell ]]
}

# Succeeds when block $2 in directory $1 is a shell block marked $3.
docs_block_is() {
	docs_is_shell "$1" "$2" && [[ "$(docs_meta "$1" "$2" 3)" == "$3" ]]
}

# Prints field $3 (1 line, 2 language, 3 mark) of block $2 in directory $1.
docs_meta() {
	cut -f"$3" "$1/$2.meta"
}

# Prints the shell blocks' lines of directory $1 whose mark is $2 (all
# marks when empty).
docs_shell_text() {
	local dir="$1" mark="${2:-}" block
	for block in $(docs_blocks "$dir"); do
		docs_is_shell "$dir" "$block" || continue
		[[ -z "$mark" ]] || docs_block_is "$dir" "$block" "$mark" || continue
		cat "$dir/$block.text"
	done
}

# Prints the inline code spans of Markdown file $1 (outside fenced blocks),
# one a line, without their backticks.
docs_inline_code() {
	awk '/^[ ]*```/ { inside = !inside; next } !inside' "$REPO_DIR/$1" |
		grep -oE '`[^`]+`' | tr -d '`' || true
}

# Prints the logical lines of a shell block on stdin: lines continued with
# a trailing backslash are joined, as the shell does. Each is prefixed with
# its offset in the block (0-based) and a tab.
docs_logical_lines() {
	awk '
		{ if (joined == "") start = NR - 1 }
		/\\$/ { joined = joined substr($0, 1, length($0) - 1); next }
		{ printf "%d\t%s\n", start, joined $0; joined = "" }'
}

# Prints the commands of the logical lines on stdin, one a line, without
# comments: each line is cut at " | ", " && ", " || " and "; ".
docs_commands() {
	sed -E 's/(^|[[:space:]])#.*$//' | sed -E 's/ (\||&&|\|\|) /\n/g; s/; /\n/g' |
		sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//' | sed '/^$/d'
}

# Prints the words of command $1 one a line, split as the shell would
# (quotes kept together; nothing is expanded or run). Words split at blanks
# when the quotes do not pair up.
docs_words() {
	xargs printf '%s\n' <<<"$1" 2>/dev/null || tr -s '[:blank:]' '\n' <<<"$1"
}

# Prints the first word of command $1 that is the program: leading
# NAME=value settings and sudo, env, exec, time and command are skipped.
docs_program() {
	local word
	while IFS= read -r word; do
		[[ "$word" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] && continue
		case "$word" in
		sudo | env | exec | time | command) continue ;;
		esac
		echo "$word"
		return 0
	done < <(docs_words "$1")
}

# Prints the make targets that the code lines on stdin name: the words after
# each `make` that look like targets (options and NAME=value skipped).
docs_make_targets() {
	local line word after
	while IFS= read -r line; do
		after=no
		for word in $line; do
			if [[ "$word" == make ]]; then
				after=yes
			elif [[ "$after" == yes ]]; then
				if [[ "$word" == -* || "$word" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
					continue
				elif [[ "$word" =~ ^[a-z][a-z0-9-]*$ ]]; then
					echo "$word"
				else
					after=no
				fi
			fi
		done
	done
}

# Prints the targets the Makefile defines, one a line.
docs_makefile_targets() {
	{ make -C "$REPO_DIR" -pRrq -f Makefile __no_such_target__ 2>/dev/null || true; } |
		awk -F: '/^[a-z][a-z0-9-]*:([^=]|$)/ { print $1 }' | sort -u
}

# Prints the clone's paths that Markdown file $1 names anywhere: those under
# scripts/, tests/, .ci/, docs/, k8s/ and cgi-bin/, and relative links.
docs_paths() {
	local file="$1" base
	base="$(dirname "$file")"
	grep -oE '(^|[^A-Za-z0-9_./-])(\./)?(scripts|tests|\.ci|docs|k8s|cgi-bin)/[A-Za-z0-9_.*/-]*' \
		"$REPO_DIR/$file" | sed -E 's/^[^.a-z]//; s/^\.\///; s/[.]+$//' || true
	grep -oE '\]\([^)#[:space:]]+' "$REPO_DIR/$file" | sed 's/^](//' |
		grep -vE '^(https?|mailto):' | while read -r link; do
		realpath -m --relative-to="$REPO_DIR" "$REPO_DIR/$base/$link"
	done
}

# Succeeds when the clone has path $1 (a glob matches something), or when
# git ignores it (made by scripts or builds, such as k8s/secrets/).
docs_path_exists() {
	local path="$1"
	compgen -G "$REPO_DIR/$path" >/dev/null && return 0
	git -C "$REPO_DIR" check-ignore -q "$path" 2>/dev/null
}

# Prints the environment variables that the code lines on stdin set or
# expand (NAME=value, $NAME, ${NAME...}), one a line; shell variables that
# a line only assigns (NAME=value alone) are left out with $1 set to "set".
docs_assigned_or_expanded() {
	grep -oE '(^|[^A-Za-z0-9_])([A-Z][A-Z0-9_]*=|\$\{?[A-Z][A-Z0-9_]*)' |
		sed -E 's/^[^A-Z$]//; s/^\$\{?//; s/=$//' || true
}

# Prints the names that lines on stdin assign alone, as shell variables
# (`KEY="$(...)"` on a line of its own): not environment variables.
docs_shell_variables() {
	grep -oE '^[A-Z][A-Z0-9_]*=("[^"]*"|'"'"'[^'"'"']*'"'"'|[^[:space:]]*)[[:space:]]*(#.*)?$' |
		sed -E 's/=.*//' || true
}

# Prints the names in the first column of the tables of Markdown file $1
# whose header's first cell is "variable".
docs_table_variables() {
	awk -F'|' '
		/^\|/ { cell = $2; gsub(/[[:space:]`]/, "", cell)
			if (tolower(cell) == "variable") { table = 1; next }
			if (table) print $2; next }
		{ table = 0 }' "$REPO_DIR/$1" | grep -oE '`[A-Z][A-Z0-9_]*`' | tr -d '`' || true
}

# Prints the files the code lives in: what git tracks or would track, but
# the Markdown and the docs suite itself.
docs_code_files() {
	git -C "$REPO_DIR" ls-files --cached --others --exclude-standard |
		grep -vE '\.md$|^tests/docs\.bats$|^tests/lib/docs\.bash$|node_modules/' |
		while read -r file; do [[ -f "$REPO_DIR/$file" ]] && echo "$file"; done
}

# Succeeds when the code reads or sets environment variable $1: $NAME,
# ${NAME, NAME=, "NAME" (getenv), env.NAME (lighttpd), name: NAME
# (Kubernetes), $(NAME) or NAME ?= (make), ENV NAME (Dockerfile).
docs_variable_used() {
	local name="$1"
	(cd "$REPO_DIR" && docs_code_files | xargs grep -qE \
		"(\\\$\\{?$name\\b|\\b$name=|\"$name\"|env\\.$name\\b|name: $name\\b|\\\$\\($name\\)|\\b$name \\?=|ENV $name\\b)")
}

# Succeeds when the word $1 appears in the code at all.
docs_word_in_code() {
	(cd "$REPO_DIR" && docs_code_files | xargs grep -qw -- "$1")
}

# Writes the curl stand-in into directory $1: it runs the real curl with
# the headers of every response also saved to $DOCS_LOG/headers.LINE.N,
# where LINE is $DOCS_LINE, the logical line of the block being run.
docs_curl_recorder() {
	mkdir -p "$1"
	cat >"$1/curl" <<EOF
#!/usr/bin/env bash
# The docs suite's curl: saves each response's headers, then is curl.
exec $(PATH="$(docs_reader_path)" command -v curl) -D "\$DOCS_LOG/headers.\${DOCS_LINE:-0}.\$(date +%s%N)" "\$@"
EOF
	chmod +x "$1/curl"
}

# Prints block text from stdin with "export DOCS_LINE=N" before each logical
# line, N being the line's number in file ($1 = the block's first line).
docs_instrument() {
	local first="$1" offset line
	docs_logical_lines | while IFS=$'\t' read -r offset line; do
		echo "export DOCS_LINE=$((first + 1 + offset))"
		printf '%s\n' "$line"
	done
}

# Prints the status code that the comment of each logical line names
# ("curl ... # 204"), as "LINE STATUS", for a block starting at line $1.
docs_expected_statuses() {
	local first="$1" offset line
	docs_logical_lines | while IFS=$'\t' read -r offset line; do
		if [[ "$line" =~ [[:space:]]#[[:space:]]*([1-5][0-9][0-9])([^0-9]|$) ]]; then
			echo "$((first + 1 + offset)) ${BASH_REMATCH[1]}"
		fi
	done
}

# Prints "LINE STATUS" for the last response of each logical line that
# curl saved headers for in directory $1 (headers.LINE.NANOSECONDS).
docs_received_statuses() {
	local file line status
	for file in "$1"/headers.*; do
		[[ -f "$file" ]] || continue
		file="${file##*/headers.}"
		line="${file%%.*}"
		status="$(grep -aoE '^HTTP/[0-9.]+ [0-9]{3}' "$1/headers.$file" | tail -n 1 | cut -d' ' -f2)"
		[[ -z "$status" ]] || echo "$line ${file#*.} $status"
	done | sort -k1,1n -k2,2n | awk '{ last[$1] = $3 } END { for (line in last) print line, last[line] }' |
		sort -n
}

# Prints the PATH a reader has: this one without the directory of the
# error-body recorder (lib/error-bodies.bash), which lives in .cache/ and so
# is hidden by the fresh .cache/ each file's namespace mounts; the docs
# suite records its own blocks' answers (docs_curl_recorder).
docs_reader_path() {
	local path=":$PATH:"
	[[ -z "${ERROR_BODIES_DIR:-}" ]] || path="${path//:$ERROR_BODIES_DIR\/bin:/:}"
	path="${path#:}"
	echo "${path%:}"
}

# Runs command $3... in the environment of a reader's fresh shell, with
# directory $1 first on the PATH and $2 as HOME.
docs_env() {
	env -i PATH="$1:$(docs_reader_path)" HOME="$2" LANG=C.UTF-8 TERM=dumb "${@:3}"
}

# Runs the runnable blocks of Markdown file $1 (extracted in $2/blocks)
# against its server blocks, in a network and mount namespace of its own
# whose data/ and .cache/ are fresh. Prints one "FILE:LINE: what" line per
# failure, and a last line "ran N runnable blocks".
docs_run_file() {
	local file="$1" work="$2" dir block ns ports port server runnable=0 first pidfile
	local blocks="$work/blocks" listening=0
	ns="$work/ns"
	for block in $(docs_blocks "$blocks"); do
		if docs_block_is "$blocks" "$block" run; then runnable=$((runnable + 1)); fi
	done
	if ((runnable == 0)); then
		echo "ran 0 runnable blocks"
		return 0
	fi
	netns_start "$ns" >/dev/null
	for dir in data .cache; do
		mkdir -p "$REPO_DIR/$dir" "$work/state/$dir"
		netns_run "$ns" mount --bind "$work/state/$dir" "$REPO_DIR/$dir"
	done
	mkdir -p "$work/home" "$work/bin"
	docs_curl_recorder "$work/bin"
	# The servers, each the leader of a process group of its own (setsid in
	# a background job changes no pid), so that SIGINT reaches all it
	# started, as Ctrl-C does. A background job of a shell without job
	# control starts with SIGINT ignored, and a script cannot trap an
	# ignored signal: env gives it back its default first.
	for block in $(docs_blocks "$blocks"); do
		docs_block_is "$blocks" "$block" server || continue
		server="$(docs_commands <"$blocks/$block.text")"
		setsid env --default-signal=INT -i PATH="$work/bin:$(docs_reader_path)" HOME="$work/home" LANG=C.UTF-8 TERM=dumb \
			nsenter --target "$(cat "$ns/pid")" --mount --net -- \
			bash -c "cd \"\$1\" && exec $server" _ "$REPO_DIR" \
			>"$work/server.$block.log" 2>&1 3>&- </dev/null &
		echo "$!" >"$work/server.$block.pid"
		# The next server starts once this one listens: two that build the
		# same tree at once could write the same files.
		wait_until 180 docs_listens_more "$ns" "$listening" "$!" ||
			echo "$file: the server of line $(docs_meta "$blocks" "$block" 1) listens on nothing after 180 s"
		listening="$(docs_listening "$ns")"
	done
	# The ports the runnable blocks name: 127.0.0.1:P, localhost:P, and
	# HOST:P where HOST is a name of 127.0.0.1 (bitcoin.127.0.0.1.nip.io).
	ports="$(docs_shell_text "$blocks" run |
		grep -oE '[A-Za-z0-9.-]*(127\.0\.0\.1|localhost)[A-Za-z0-9.-]*:[0-9]+' | cut -d: -f2 | sort -u)"
	for port in $ports; do
		if ! wait_until 180 netns_run "$ns" bash -c ": </dev/tcp/127.0.0.1/$port"; then
			echo "$file: nothing listens on port $port after 180 s; the servers' output:"
			tail -n 20 "$work"/server.*.log 2>/dev/null | sed 's/^/    /'
		fi
	done
	for pidfile in "$work"/server.*.pid; do
		[[ -f "$pidfile" ]] || continue
		[[ "$(docs_group_of "$(cat "$pidfile")")" == "$(cat "$pidfile")" ]] ||
			echo "$file: the server $pidfile is not the leader of its process group; it cannot be stopped as Ctrl-C would"
	done
	for block in $(docs_blocks "$blocks"); do
		docs_block_is "$blocks" "$block" run || continue
		first="$(docs_meta "$blocks" "$block" 1)"
		docs_run_block "$file" "$ns" "$work/block.$block" "$first" "$work/bin" "$work/home" \
			<"$blocks/$block.text"
	done
	docs_stop_servers "$work"
	docs_stop_namespace "$ns"
	echo "ran $runnable runnable blocks"
}

# Runs one runnable block (stdin) starting at line $4 of file $1 in
# namespace $2, with its records in directory $3, and prints its failures.
docs_run_block() {
	local file="$1" ns="$2" records="$3" first="$4" bin="$5" home="$6" status=0 line expected received
	mkdir -p "$records"
	cat >"$records/text"
	docs_instrument "$first" <"$records/text" >"$records/script"
	# Entering a mount namespace resets the working directory to /.
	docs_env "$bin" "$home" DOCS_LOG="$records" \
		nsenter --target "$(cat "$ns/pid")" --mount --net -- \
		bash -c 'cd "$1" && exec bash -e -o pipefail "$2"' _ "$REPO_DIR" "$records/script" \
		>"$records/output" 2>&1 3>&- </dev/null || status=$?
	if ((status != 0)); then
		echo "$file:$((first + 1)): the block failed (exit status $status); its output:"
		sed 's/^/    /' "$records/output"
	fi
	docs_received_statuses "$records" >"$records/received"
	while read -r line received; do
		((received < 500)) || echo "$file:$line: the server answered $received"
	done <"$records/received"
	if grep -qE '^Status: 5[0-9][0-9]' "$records/output"; then
		echo "$file:$((first + 1)): a program answered $(grep -m1 -oE '^Status: 5[0-9][0-9]' "$records/output")"
	fi
	docs_expected_statuses "$first" <"$records/text" | while read -r line expected; do
		received="$(awk -v line="$line" '$1 == line { print $2 }' "$records/received")"
		[[ "$received" == "$expected" ]] ||
			echo "$file:$line: the comment says $expected, the server answered ${received:-nothing}"
	done
}

# Prints how many TCP ports listen in the namespace of directory $1.
docs_listening() {
	netns_run "$1" ss -Hltn | wc -l
}

# Succeeds when more than $2 ports listen in namespace $1, or when the
# server whose pid is $3 has exited (its log then says why).
docs_listens_more() {
	process_gone "$3" || (($(docs_listening "$1") > $2))
}

# Prints the process group of process $1.
docs_group_of() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
	stat="${stat##*) }"
	read -r _ _ group _ <<<"$stat"
	echo "$group"
}

# Stops the servers of directory $1: SIGINT to each one's process group, as
# Ctrl-C, then after 30 s SIGKILL.
docs_stop_servers() {
	local pidfile pid
	for pidfile in "$1"/server.*.pid; do
		[[ -f "$pidfile" ]] || continue
		pid="$(cat "$pidfile")"
		rm -f "$pidfile"
		kill -INT -- "-$pid" 2>/dev/null || continue
		wait_until 30 process_gone "$pid" || kill -KILL -- "-$pid" 2>/dev/null || true
	done
}

# The checks. Each prints one "FILE:LINE: what is wrong" line per failure
# (or "FILE: ..."), and nothing when all is well. $1 is the Markdown file,
# $2 the directory its blocks were extracted into.

# Shell blocks must carry a known mark; a server block holds one command.
docs_check_marks() {
	local file="$1" dir="$2" block mark
	for block in $(docs_blocks "$dir"); do
		docs_is_shell "$dir" "$block" || continue
		mark="$(docs_meta "$dir" "$block" 3)"
		if [[ " $DOCS_MARKS " != *" $mark "* ]]; then
			echo "$file:$(docs_meta "$dir" "$block" 1): unknown mark '$mark' (known: $DOCS_MARKS)"
		elif [[ "$mark" == server && "$(docs_commands <"$dir/$block.text" | wc -l)" -ne 1 ]]; then
			echo "$file:$(docs_meta "$dir" "$block" 1): a server block holds one command; split it"
		fi
	done
}

# Each command of each shell block must exist: make targets in the Makefile,
# paths as executables in the clone, other programs installed here (or, in
# cluster blocks, one of the cluster tools).
docs_check_commands() {
	local file="$1" dir="$2" block first offset line command program target targets
	targets="$(docs_makefile_targets)"
	for block in $(docs_blocks "$dir"); do
		docs_is_shell "$dir" "$block" || continue
		first="$(docs_meta "$dir" "$block" 1)"
		while IFS=$'\t' read -r offset line; do
			while IFS= read -r command; do
				program="$(docs_program "$command")"
				[[ -n "$program" ]] || continue
				if [[ "$program" == make ]]; then
					for target in $(docs_make_targets <<<"$command"); do
						grep -qx -- "$target" <<<"$targets" ||
							echo "$file:$((first + 1 + offset)): make $target: no such target in the Makefile"
					done
				elif [[ "$program" == */* ]]; then
					[[ -x "$REPO_DIR/${program#./}" ]] ||
						echo "$file:$((first + 1 + offset)): $program: no such executable in the clone"
				elif ! command -v "$program" >/dev/null 2>&1 &&
					[[ " $DOCS_CLUSTER_TOOLS " != *" $program "* ]]; then
					echo "$file:$((first + 1 + offset)): $program: no such command"
				fi
			done < <(docs_commands <<<"$line")
		done < <(docs_logical_lines <"$dir/$block.text")
	done
}

# Every make target named in code (shell blocks without their comments, and
# inline spans) exists.
docs_check_targets() {
	local file="$1" dir="$2" target targets
	targets="$(docs_makefile_targets)"
	for target in $({ docs_shell_text "$dir" | docs_commands; docs_inline_code "$file"; } |
		docs_make_targets | sort -u); do
		grep -qx -- "$target" <<<"$targets" || echo "$file: make $target: no such target in the Makefile"
	done
}

# Every path of the clone the file names, and every link, exists.
docs_check_paths() {
	local file="$1" path
	for path in $(docs_paths "$file" | sort -u); do
		docs_path_exists "$path" || echo "$file: $path: no such file or directory"
	done
}

# Every placeholder left unfilled in the file, one a line with its line
# number: an HTML comment starting "<!-- lead:" (a note for whoever fills
# in a figure) or the text "DATE, MACHINE" (where measured figures' date
# and machine go).
docs_check_placeholders() {
	local file="$1"
	awk -v file="$file" '/<!--[[:space:]]*lead:|DATE, MACHINE/ {
		line = $0
		sub(/^[[:space:]]+/, "", line)
		print file ":" NR ": an unfilled placeholder: " substr(line, 1, 60)
	}' "$REPO_DIR/$file"
}

# Every variable the code in the file sets or expands, or a variable table
# lists, is read or set by the code; every other NAME_WITH_UNDERSCORE of an
# inline span appears in the code.
docs_check_variables() {
	local file="$1" dir="$2" name locals code
	code="$({ docs_shell_text "$dir"; docs_inline_code "$file"; })"
	locals="$(docs_shell_variables <<<"$code" | sort -u)"
	for name in $({ docs_assigned_or_expanded <<<"$code"; docs_table_variables "$file"; } | sort -u); do
		[[ " $DOCS_STANDARD_VARIABLES " == *" $name "* ]] && continue
		grep -qx -- "$name" <<<"$locals" && continue
		docs_variable_used "$name" || echo "$file: $name: no code reads or sets this variable"
	done
	for name in $(docs_inline_code "$file" | grep -xE '[A-Z][A-Z0-9]*_[A-Z0-9_]*' | sort -u); do
		docs_word_in_code "$name" || echo "$file: $name: the code never names it"
	done
}

# Stops the namespace of directory $1 and whatever still runs in it: a
# server that put its children in process groups of their own (make stack)
# and was killed, not stopped, would leave them behind.
docs_stop_namespace() {
	local ns="$1" holder net link pid
	[[ -f "$ns/pid" ]] || return 0
	holder="$(cat "$ns/pid")"
	net="$(readlink "/proc/$holder/ns/net" 2>/dev/null)" || return 0
	for link in /proc/[0-9]*/ns/net; do
		pid="${link#/proc/}"
		pid="${pid%%/*}"
		[[ "$pid" != "$holder" && "$(readlink "$link" 2>/dev/null)" == "$net" ]] || continue
		echo "$pid" >"$ns/leftover.$pid.pid"
	done
	for link in "$ns"/leftover.*.pid; do
		[[ -f "$link" ]] && stop_pidfile "$link"
	done
	netns_stop "$ns"
}

# Stops every server, namespace and other process whose pid file is below
# directory $1, servers first (as Ctrl-C would), for a test that stopped
# half-way.
docs_stop_all_below() {
	local pidfile
	[[ -d "$1" ]] || return 0
	while read -r pidfile; do
		docs_stop_servers "$(dirname "$pidfile")"
	done < <(find "$1" -name 'server.*.pid' -type f)
	while read -r pidfile; do
		docs_stop_namespace "$(dirname "$pidfile")"
	done < <(find "$1" -path '*/ns/pid' -type f)
	stop_all_below "$1"
}
