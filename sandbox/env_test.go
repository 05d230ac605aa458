package sandbox

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestEnv(t *testing.T) {
	environ := []string{
		"PATH=/home/u/bin:/usr/bin", "HOME=/home/u", "LANG=de_DE.UTF-8",
		"AWS_SECRET_ACCESS_KEY=secret", "GITHUB_TOKEN=ghp_x", "MEMORY_FILE_PATH=/data/m.json",
		"DUP=first", "DUP=second", "EMPTY=", "novalue", "=nameless", "lower=l",
	}
	tests := []struct {
		name  string
		names []string
		want  []string
	}{
		{"nothing named", nil, []string{"PATH=" + DefaultPath, "HOME=/home/u", "LANG=de_DE.UTF-8"}},
		{"named pass", []string{"MEMORY_FILE_PATH", "PATH"},
			[]string{"MEMORY_FILE_PATH=/data/m.json", "PATH=/home/u/bin:/usr/bin", "HOME=/home/u", "LANG=de_DE.UTF-8"}},
		{"first of duplicates", []string{"DUP"}, []string{"DUP=first", "PATH=" + DefaultPath, "HOME=/home/u", "LANG=de_DE.UTF-8"}},
		{"empty value passes", []string{"EMPTY"}, []string{"EMPTY=", "PATH=" + DefaultPath, "HOME=/home/u", "LANG=de_DE.UTF-8"}},
		{"case matters", []string{"LOWER", "aws_secret_access_key"}, []string{"PATH=" + DefaultPath, "HOME=/home/u", "LANG=de_DE.UTF-8"}},
		{"named but unset", []string{"UNSET", "novalue", ""}, []string{"PATH=" + DefaultPath, "HOME=/home/u", "LANG=de_DE.UTF-8"}},
		{"named twice", []string{"GITHUB_TOKEN", "GITHUB_TOKEN"}, []string{"GITHUB_TOKEN=ghp_x", "PATH=" + DefaultPath, "HOME=/home/u", "LANG=de_DE.UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Env(tt.names, environ)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Env(%q) = %q, want %q", tt.names, got, tt.want)
			}
			if !slices.Contains(tt.names, "AWS_SECRET_ACCESS_KEY") && strings.Contains(strings.Join(got, "\n"), "secret") {
				t.Fatal("the secret passed")
			}
		})
	}
	if got := Env(nil, nil); !slices.Equal(got, []string{"PATH=" + DefaultPath, "LANG=" + DefaultLang}) {
		t.Fatalf("empty environment: %q", got)
	}
}

// The parent's secrets reach neither the server nor the init.
func TestEnvScrubbedInside(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
	t.Setenv("PASSED_ON", "visible")
	cfg := shConfig(t, `env; echo --; cat /proc/1/environ 2>/dev/null | tr '\0' '\n'; true`)
	cfg.Env = Env([]string{"PASSED_ON"}, os.Environ())
	r := mustRun(t, cfg)
	if strings.Contains(r.stdout, "s3cr3t") {
		t.Fatalf("the secret is visible inside:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "PASSED_ON=visible") {
		t.Fatalf("a named variable did not pass:\n%s", r.stdout)
	}
}

func TestEnvFixedValues(t *testing.T) {
	got := Env([]string{"npm_config_prefer_offline=true", "TOKEN=", "HOME"},
		[]string{"npm_config_prefer_offline=false", "HOME=/home/u", "SECRET=x"})
	want := map[string]bool{"npm_config_prefer_offline=true": true, "TOKEN=": true, "HOME=/home/u": true}
	for _, kv := range got {
		delete(want, kv)
		if strings.HasPrefix(kv, "SECRET=") || kv == "npm_config_prefer_offline=false" {
			t.Errorf("Env passed %q", kv)
		}
	}
	if len(want) != 0 {
		t.Errorf("Env = %q, missing %v", got, want)
	}
}
