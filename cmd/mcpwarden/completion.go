package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// completionCommand implements "mcpwarden completion bash|zsh|fish".
func completionCommand(args []string, stdout, stderr io.Writer) int {
	c := commandDoc("completion")
	if wantsHelp(args) {
		writeHelp(stdout, c)
		return 0
	}
	if len(args) != 1 {
		return usageError(stderr, c, "completion: want one shell, bash, zsh or fish, got %d arguments", len(args))
	}
	root := reference()
	switch args[0] {
	case "bash":
		writeBashCompletion(stdout, root)
	case "zsh":
		writeZshCompletion(stdout, root)
	case "fish":
		writeFishCompletion(stdout, root)
	default:
		return usageError(stderr, c, "completion: unknown shell %q (want bash, zsh or fish)%s", args[0], suggestion(args[0], shells()))
	}
	return 0
}

// complEntry is what completion needs of one command of the reference.
type complEntry struct {
	key        string // the command's words: "pin accept"; "" for mcpwarden itself
	cmd        *command
	flags      []flagDoc
	valueFlags []string // the flags that take a value
	subs       []*command
	arg        string // what positional arguments complete to, as the scripts name it
}

// complEntries flattens the reference, root first.
func complEntries(root *command) []complEntry {
	var out []complEntry
	var walk func(c *command)
	walk = func(c *command) {
		e := complEntry{key: c.name, cmd: c, flags: c.flagDocs(), subs: visible(c.subs), arg: kindName(c.argKind)}
		if c.name == "run" {
			e.arg = "program"
		}
		for _, f := range e.flags {
			if f.arg != "" {
				e.valueFlags = append(e.valueFlags, f.name)
			}
		}
		out = append(out, e)
		for _, s := range e.subs {
			walk(s)
		}
	}
	walk(root)
	return out
}

// kindName is a value kind as the scripts name it: file, dir, profile,
// verb, or words:W1 W2... for fixed words; "" for none.
func kindName(k valueKind) string {
	switch k {
	case valueFile:
		return "file"
	case valueDir:
		return "dir"
	case valueProfile:
		return "profile"
	case valueCommand:
		return "verb"
	}
	if w := k.words(); len(w) > 0 {
		return "words:" + strings.Join(w, " ")
	}
	return ""
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeShellHelpers writes the functions the bash and zsh scripts share:
// the table of commands, flags and arguments as case statements, in the
// syntax both shells read.
func writeShellHelpers(w io.Writer, root *command) {
	entries := complEntries(root)
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }

	p("# _mcpwarden_subs KEY prints the sub-commands of the command KEY.\n_mcpwarden_subs() {\n\tcase $1 in\n")
	for _, e := range entries {
		if len(e.subs) > 0 {
			var words []string
			for _, s := range e.subs {
				words = append(words, s.word())
			}
			p("\t%s) echo %s ;;\n", shQuote(e.key), shQuote(strings.Join(words, " ")))
		}
	}
	p("\tesac\n}\n\n")

	p("# _mcpwarden_describe KEY prints WORD:SUMMARY of each sub-command of KEY.\n_mcpwarden_describe() {\n\tcase $1 in\n")
	for _, e := range entries {
		if len(e.subs) > 0 {
			var lines []string
			for _, s := range e.subs {
				lines = append(lines, s.word()+":"+s.summary)
			}
			p("\t%s) printf '%%s\\n' %s ;;\n", shQuote(e.key), strings.Join(mapStrings(lines, shQuote), " "))
		}
	}
	p("\tesac\n}\n\n")

	p("# _mcpwarden_flags KEY prints the flags of the command KEY.\n_mcpwarden_flags() {\n\tcase $1 in\n")
	for _, e := range entries {
		flags := []string{"--help"}
		for _, f := range e.flags {
			flags = append(flags, "--"+f.name)
		}
		p("\t%s) echo %s ;;\n", shQuote(e.key), shQuote(strings.Join(flags, " ")))
	}
	p("\t*) echo --help ;;\n\tesac\n}\n\n")

	p("# _mcpwarden_value_flag KEY FLAG succeeds when FLAG of KEY takes a value.\n_mcpwarden_value_flag() {\n\tcase \"$1 $2\" in\n")
	var pairs []string
	for _, e := range entries {
		for _, f := range e.valueFlags {
			pairs = append(pairs, shQuote(e.key+" "+f))
		}
	}
	p("\t%s) return 0 ;;\n\tesac\n\treturn 1\n}\n\n", strings.Join(pairs, " | "))

	p("# _mcpwarden_flag_kind FLAG prints what the value of FLAG completes to.\n_mcpwarden_flag_kind() {\n\tcase $1 in\n")
	var names []string
	for _, e := range entries {
		for _, f := range e.valueFlags {
			if !slices.Contains(names, f) {
				names = append(names, f)
			}
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if k := kindName(flagValueKind(n)); k != "" {
			p("\t%s) echo %s ;;\n", shQuote(n), shQuote(k))
		}
	}
	p("\tesac\n}\n\n")

	p("# _mcpwarden_args KEY prints what the arguments of the command KEY complete to.\n_mcpwarden_args() {\n\tcase $1 in\n")
	for _, e := range entries {
		if e.arg != "" {
			p("\t%s) echo %s ;;\n", shQuote(e.key), shQuote(e.arg))
		}
	}
	p("\tesac\n}\n\n")

	// _mcpwarden_parse reads the words before the cursor into key (the
	// command), npos (positional arguments after it), first (the first
	// of them), after (words after "--", -1 without) and skipped (whether
	// the word before the cursor is a flag waiting for its value).
	p(`# _mcpwarden_parse WORD... reads the words between the program and the
# cursor into key, npos, first and after.
_mcpwarden_parse() {
	key= npos=0 first= after=-1
	local w f skip=0
	for w in "$@"; do
		if ((skip)); then
			# bash splits --flag=value at the =: the value follows it.
			skip=0
			[[ $w == = ]] && skip=1
			continue
		fi
		if ((after >= 0)); then
			((after++))
			continue
		fi
		case $w in
		--)
			[[ -n $key ]] && after=0
			continue
			;;
		-*=*) continue ;;
		=)
			skip=1
			continue
			;;
		-*)
			f=${w#-}
			f=${f#-}
			_mcpwarden_value_flag "$key" "$f" && skip=1
			continue
			;;
		esac
		if [[ -z $key ]]; then
			key=$w
		elif ((npos == 0)) && [[ " $(_mcpwarden_subs "$key") " == *" $w "* ]]; then
			key="$key $w"
		else
			((npos == 0)) && first=$w
			((npos++))
		fi
	done
	return 0
}

# _mcpwarden_kind prints what the word at the cursor completes to, given
# the word before it; "flags" for the command's flags.
_mcpwarden_kind() {
	local cur=$1 prev=$2 f
	if ((after >= 0)); then
		if [[ $key == run ]]; then
			((after == 0)) && echo program || echo file
		else
			_mcpwarden_args "$key"
		fi
		return
	fi
	if [[ $prev == -?* && $prev != *=* ]]; then
		f=${prev#-}
		f=${f#-}
		if _mcpwarden_value_flag "$key" "$f"; then
			_mcpwarden_flag_kind "$f"
			return
		fi
	fi
	if [[ $cur == -* ]]; then
		echo flags
	elif [[ -z $key ]]; then
		echo subs
	elif ((npos == 0)) && [[ -n $(_mcpwarden_subs "$key") ]]; then
		echo subs
	elif [[ $key == help ]]; then
		((npos == 0)) && echo verb || echo "words:$(_mcpwarden_subs "$first")"
	elif [[ $key == run && $npos -gt 0 ]]; then
		echo file
	else
		_mcpwarden_args "$key"
	fi
}

`)
}

func mapStrings(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

const completionHeader = `# %s completion for mcpwarden, written by "mcpwarden completion %s" from
# the command reference that mcpwarden's help pages come from.
`

func writeBashCompletion(w io.Writer, root *command) {
	fmt.Fprintf(w, completionHeader, "bash", "bash")
	fmt.Fprint(w, "# Install: source <(mcpwarden completion bash), or save it as\n# ~/.local/share/bash-completion/completions/mcpwarden.\n\n")
	writeShellHelpers(w, root)
	io.WriteString(w, `# _mcpwarden_profiles PROGRAM prints the built-in profile names, as
# "PROGRAM profile list" lists them.
_mcpwarden_profiles() {
	local name rest
	"$1" profile list 2>/dev/null | while read -r name rest; do
		[[ $name == NAME ]] || printf '%s\n' "$name"
	done
}

_mcpwarden() {
	local prog=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=
	local key npos first after kind
	((COMP_CWORD > 1)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# --flag=value reaches here as --flag, =, value.
	[[ $prev == = ]] && ((COMP_CWORD > 2)) && prev=${COMP_WORDS[COMP_CWORD - 2]}
	_mcpwarden_parse "${COMP_WORDS[@]:1:COMP_CWORD-1}"
	kind=$(_mcpwarden_kind "$cur" "$prev")
	COMPREPLY=()
	case $kind in
	flags) mapfile -t COMPREPLY < <(compgen -W "$(_mcpwarden_flags "$key")" -- "$cur") ;;
	subs) mapfile -t COMPREPLY < <(compgen -W "$(_mcpwarden_subs "$key")" -- "$cur") ;;
	verb) mapfile -t COMPREPLY < <(compgen -W "$(_mcpwarden_subs "")" -- "$cur") ;;
	words:*) mapfile -t COMPREPLY < <(compgen -W "${kind#words:}" -- "$cur") ;;
	program) mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u) ;;
	file)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	dir)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		;;
	profile)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(
			compgen -W "$(_mcpwarden_profiles "$prog")" -- "$cur"
			compgen -f -- "$cur"
		)
		;;
	esac
	return 0
}

complete -F _mcpwarden mcpwarden
`)
}

func writeZshCompletion(w io.Writer, root *command) {
	fmt.Fprint(w, "#compdef mcpwarden\n")
	fmt.Fprintf(w, completionHeader, "zsh", "zsh")
	fmt.Fprint(w, "# Install: mcpwarden completion zsh > \"${fpath[1]}/_mcpwarden\" and run compinit,\n# or source <(mcpwarden completion zsh) after compinit.\n\n")
	writeShellHelpers(w, root)
	fmt.Fprint(w, `_mcpwarden() {
	local cur=${words[CURRENT]} prev=${words[CURRENT-1]}
	local key npos first after kind
	local -a items names
	(( CURRENT > 2 )) || prev=
	_mcpwarden_parse "${(@)words[2,CURRENT-1]}"
	kind=$(_mcpwarden_kind "$cur" "$prev")
	case $kind in
	flags) compadd -- ${=$(_mcpwarden_flags "$key")} ;;
	subs)
		items=("${(@f)$(_mcpwarden_describe "$key")}")
		_describe command items
		;;
	verb)
		items=("${(@f)$(_mcpwarden_describe "")}")
		_describe command items
		;;
	words:*) compadd -- ${=kind#words:} ;;
	program) _command_names -e ;;
	file) _files ;;
	dir) _files -/ ;;
	profile)
		names=("${(@f)$("${words[1]}" profile list 2>/dev/null)}")
		names=("${(@)names%% *}")
		compadd -- "${(@)names:#NAME}"
		_files
		;;
	esac
}

if [[ $funcstack[1] == _mcpwarden ]]; then
	_mcpwarden "$@"
else
	compdef _mcpwarden mcpwarden
fi
`)
}

// fishQuote quotes s for fish, whose single quotes escape only \ and '.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func writeFishCompletion(w io.Writer, root *command) {
	entries := complEntries(root)
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p(completionHeader, "fish", "fish")
	p("# Install: mcpwarden completion fish > ~/.config/fish/completions/mcpwarden.fish\n\n")
	var valuePairs, subPairs []string
	for _, e := range entries {
		for _, f := range e.valueFlags {
			valuePairs = append(valuePairs, fishQuote(e.key+" "+f))
		}
		for _, s := range e.subs {
			subPairs = append(subPairs, fishQuote(s.name))
		}
	}
	p(`# __mcpwarden_key prints the command being completed: "pin accept".
function __mcpwarden_key
    set -l value_flags %s
    set -l commands %s
    set -l key ''
    set -l skip 0
    for w in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case '--'
                break
            case '-*=*'
                continue
            case '-*'
                set -l f (string replace -r -- '^--?' '' $w)
                if contains -- "$key $f" $value_flags
                    set skip 1
                end
                continue
        end
        set -l next (string trim -- "$key $w")
        if contains -- $next $commands
            set key $next
        else
            break
        end
    end
    echo $key
end

# __mcpwarden_is KEY succeeds when the command being completed is KEY.
function __mcpwarden_is
    set -l key (__mcpwarden_key)
    test "$key" = "$argv[1]"
end

# __mcpwarden_help_of VERB succeeds when the word after "help VERB" is
# being completed; with '' the word after "help".
function __mcpwarden_help_of
    set -l words (commandline -opc)
    test "$words[2]" = help; or return 1
    if test -z "$argv[1]"
        test (count $words) -eq 2
    else
        test (count $words) -eq 3; and test "$words[3]" = "$argv[1]"
    end
end

# __mcpwarden_profiles prints the built-in profile names, as "profile list" lists them.
function __mcpwarden_profiles
    set -l prog (commandline -opc)[1]
    $prog profile list 2>/dev/null | string match -rv '^NAME\s' | string replace -r '\s.*' ''
end

complete -c mcpwarden -f
`, strings.Join(valuePairs, " "), strings.Join(subPairs, " "))
	for _, e := range entries {
		cond := fishQuote("__mcpwarden_is " + fishQuote(e.key))
		for _, s := range e.subs {
			p("complete -c mcpwarden -n %s -a %s -d %s\n", cond, s.word(), fishQuote(s.summary))
		}
		p("complete -c mcpwarden -n %s -s h -l help -d 'print the help'\n", cond)
		for _, f := range e.flags {
			line := fmt.Sprintf("complete -c mcpwarden -n %s -l %s -d %s", cond, f.name, fishQuote(firstClause(f.usage)))
			switch k := flagValueKind(f.name); {
			case f.arg == "":
			case k == valueNone:
				line += " -x" // a value, but none to offer
			default:
				line += " -r" + fishValues(k)
			}
			p("%s\n", line)
		}
		switch {
		case e.key == "run":
			p("complete -c mcpwarden -n %s -a '(__fish_complete_command)'\n", cond)
		case e.key == "help":
			var verbs []string
			for _, s := range visible(root.subs) {
				verbs = append(verbs, s.word())
				if len(s.subs) > 0 {
					var subs []string
					for _, sub := range visible(s.subs) {
						subs = append(subs, sub.word())
					}
					p("complete -c mcpwarden -n %s -a %s\n", fishQuote("__mcpwarden_help_of "+s.word()), fishQuote(strings.Join(subs, " ")))
				}
			}
			p("complete -c mcpwarden -n %s -a %s\n", fishQuote("__mcpwarden_help_of ''"), fishQuote(strings.Join(verbs, " ")))
		case e.arg != "" && len(e.subs) == 0:
			p("complete -c mcpwarden -n %s%s\n", cond, fishValues(e.cmd.argKind))
		}
	}
}

// fishValues are the options of fish's complete for a value of kind k.
func fishValues(k valueKind) string {
	switch k {
	case valueFile:
		return " -F"
	case valueDir:
		return " -f -a '(__fish_complete_directories)'"
	case valueProfile:
		return " -F -a '(__mcpwarden_profiles)'"
	}
	if w := k.words(); len(w) > 0 {
		return " -f -a " + fishQuote(strings.Join(w, " "))
	}
	return ""
}

// firstClause is a flag's usage cut at its first parenthesis or colon,
// short enough for a completion menu.
func firstClause(s string) string {
	if i := strings.IndexAny(s, "(:;"); i > 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
