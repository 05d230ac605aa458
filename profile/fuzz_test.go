package profile

import (
	"io/fs"
	"testing"

	"github.com/mcpwarden/mcpwarden/profiles"
)

// FuzzParse checks that no input makes Parse panic, and that whatever it
// accepts holds only values the checks allow.
func FuzzParse(f *testing.F) {
	entries, _ := fs.ReadDir(profiles.FS(), ".")
	for _, e := range entries {
		data, _ := fs.ReadFile(profiles.FS(), e.Name())
		f.Add(data)
	}
	for _, s := range []string{
		everyKey,
		"[server]\nname = \"x\"\n[tools.rules.a]\nb = 1\n",
		"[[server]]\n[[server.x]]\n",
		"server = { name = \"x\", match = [\"*\"] }\nsandbox.limits = { memory = \"1G\" }\n",
		"[server]\nname = \"x\"\n[sandbox]\nread = [\"~\", \"{arg_dirs}\", 1, [2]]\n",
		"\xef\xbb\xbf[server\n",
		"a = \"\"\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f.toml", data)
		if err != nil {
			if p != nil {
				t.Fatal("profile returned with an error")
			}
			_ = err.Error()
			return
		}
		if !validName(p.Server.Name) {
			t.Fatalf("accepted server.name %q", p.Server.Name)
		}
		for _, l := range [][]string{p.Sandbox.Read, p.Sandbox.Write, p.Sandbox.Hide} {
			for _, s := range l {
				if checkPath(s) != "" {
					t.Fatalf("accepted path %q", s)
				}
			}
		}
		if p.Sandbox.Network != "proxy" && len(p.Sandbox.AllowHosts)+len(p.Sandbox.AllowPrivate) > 0 {
			t.Fatalf("accepted allow_hosts with network %q", p.Sandbox.Network)
		}
		if p.Tools.Allow == nil || p.Resources.Allow == nil || p.Prompts.Allow == nil {
			t.Fatal("nil allow list")
		}
	})
}
