package sandbox

import "strings"

// DefaultPath is the server's PATH when the profile does not pass the
// user's own.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// DefaultLang is the server's LANG when the user has none.
const DefaultLang = "C.UTF-8"

// Env returns the server's environment: the variables of environ (NAME=value
// entries, as from os.Environ) whose names are listed in names, the fixed
// values of entries of names written NAME=value, plus PATH,
// HOME and LANG. PATH is DefaultPath unless names lists it and environ
// sets it; HOME and LANG pass whenever environ sets them, and LANG is
// DefaultLang when it does not. Everything else, API keys and tokens among it,
// stays out. Names match exactly (case matters). When environ sets a name
// twice, the first value wins, as it does for os.Getenv.
func Env(names []string, environ []string) []string {
	values := make(map[string]string, len(environ))
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !validName(name) {
			continue
		}
		if _, seen := values[name]; !seen {
			values[name] = value
		}
	}
	var out []string
	added := make(map[string]bool)
	add := func(name, value string) {
		if !added[name] {
			added[name] = true
			out = append(out, name+"="+value)
		}
	}
	for _, name := range names {
		if n, v, fixed := strings.Cut(name, "="); fixed {
			if validName(n) && !strings.ContainsRune(v, 0) {
				add(n, v)
			}
			continue
		}
		if v, ok := values[name]; ok && validName(name) {
			add(name, v)
		}
	}
	add("PATH", DefaultPath)
	if v, ok := values["HOME"]; ok {
		add("HOME", v)
	}
	if v, ok := values["LANG"]; ok {
		add("LANG", v)
	}
	add("LANG", DefaultLang)
	return out
}

// validName reports whether name can be an environment variable's name:
// not empty, no "=" and no NUL.
func validName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "=\x00")
}
