package profile

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestScanPositions(t *testing.T) {
	src := `# comment with [fake] = 1
top = 1
a.b.c = "x" # [x] = 1

[t]   # header comment
s1 = """
k = 1
[not.a.table]
"""
s2 = '''
''x = 1'''
s3 = "\"[y]\" = 1"
s4 = 'lit # not = comment'
arr = [
  1, # c = 1
  [2, 3],
  { in = 1,
    in2 = 2 },
]
"quoted.key" = 1
'lit key' = 2
"esc\u0041" = 3
date = 1979-05-27 07:32:00Z
inl = { x.y = 1, z = [ { w = 1 } ] }

[[aot]]
k1 = 1
[[aot]]
k2 = 2
[ sp . "q r" ]
last = true
`
	want := map[string]int{
		"top": 2, "a": 3, "a.b": 3, "a.b.c": 3,
		"t": 5, "t.s1": 6, "t.s2": 10, "t.s3": 12, "t.s4": 13, "t.arr": 14,
		"t.arr.in": 17, "t.arr.in2": 18,
		`t."quoted.key"`: 20, `t."lit key"`: 21, "t.escA": 22, "t.date": 23,
		"t.inl": 24, "t.inl.x": 24, "t.inl.x.y": 24, "t.inl.z": 24, "t.inl.z.w": 24,
		"aot": 26, "aot.k1": 27, "aot.k2": 29, "sp": 30, `sp."q r"`: 30, `sp."q r".last`: 31,
	}
	pos := scanPositions(src)
	for k, line := range want {
		if got := pos.keys[k]; got != line {
			t.Errorf("line of %s = %d, want %d", k, got, line)
		}
	}
	for k := range pos.keys {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected key %s at line %d", k, pos.keys[k])
		}
	}
	if got := pos.elems["t.arr"]; len(got) != 3 || got[0] != 15 || got[1] != 16 || got[2] != 17 {
		t.Errorf("element lines of t.arr = %v, want [15 16 17]", got)
	}
	checkAgainstToml(t, src)
}

// checkAgainstToml fails unless every key toml reports for src has a line
// within the document, and a line that shows the key's name when it is a
// bare name.
func checkAgainstToml(t *testing.T, src string) {
	t.Helper()
	var v map[string]any
	md, err := toml.Decode(src, &v)
	if err != nil {
		return
	}
	pos := scanPositions(src)
	lines := strings.Split(src, "\n")
	for _, k := range md.Keys() {
		line := pos.line(k)
		if line < 1 || line > len(lines) {
			t.Fatalf("key %s: line %d, document has %d lines\n%q", k, line, len(lines), src)
		}
		name := k[len(k)-1]
		if bare := strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == ""; bare && name != "" &&
			!strings.Contains(lines[line-1], name) && !strings.Contains(lines[line-1], `\`) { // escapes may spell it

			t.Fatalf("key %s: line %d is %q\n%q", k, line, lines[line-1], src)
		}
	}
}

// FuzzKeyLines checks that the scanner finds every key that toml finds, on
// a line that exists, in any document toml accepts.
func FuzzKeyLines(f *testing.F) {
	for _, s := range []string{
		everyKey,
		"a = \"\"\"x\"\"\"\"\"\nb = 1\n",
		"a = '''x'''''\nb = 1\n",
		"a = [[1], [\"]\"], {b = '}'}]\nc.d = {e = [ {f = 1} ]}\n",
		"[[a.b]]\n[a.b.c]\nd = 1\n[[a.b]]\n",
		"\"\\u0061\\\"\" = 1\n'x\"y' = 2\n",
		"a = {\n b = 1, # c\n c = 2\n}\n",
		"\xef\xbb\xbfa = 1\r\nb = 2\r\n",
		"a = 1979-05-27 07:32:00\nb = -inf\nc = 0x1F\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkAgainstToml(t, src)
	})
}
