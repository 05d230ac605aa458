package sandbox

import (
	"reflect"
	"testing"
)

// fullConfig sets every field of a Config but Egress (a descriptor, not
// encoded) to something other than its zero value, by reflection, so
// that a field added to Config and forgotten by the encoding fails
// TestConfigEncodingCoversEveryField instead of silently reaching the init empty.
func fullConfig(t *testing.T) Config {
	t.Helper()
	var cfg Config
	v := reflect.ValueOf(&cfg).Elem()
	var fill func(f reflect.Value, name string)
	fill = func(f reflect.Value, name string) {
		switch f.Kind() {
		case reflect.String:
			f.SetString(name + "=\xff\x00é") // not UTF-8, a NUL: bytes as they are
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{name, "", "\xfe" + name}))
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(len(name)) << 33 >> 3)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Struct:
			for i := range f.NumField() {
				fill(f.Field(i), f.Type().Field(i).Name)
			}
		default:
			t.Fatalf("Config field %s of kind %s: teach encodeConfig and this test about it", name, f.Kind())
		}
	}
	for i := range v.NumField() {
		if name := v.Type().Field(i).Name; name != "Egress" {
			fill(v.Field(i), name)
		}
	}
	return cfg
}

func TestConfigEncodingCoversEveryField(t *testing.T) {
	for _, cfg := range []Config{{}, fullConfig(t)} {
		got, err := decodeConfigBytes(encodeConfig(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, cfg) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, cfg)
		}
	}
}

// Every cut of an encoding, and anything after it, is an error, not a
// panic and not a Config.
func TestConfigTruncatedOrTrailing(t *testing.T) {
	b := encodeConfig(fullConfig(t))
	for n := range len(b) {
		if _, err := decodeConfigBytes(b[:n]); err == nil {
			t.Fatalf("a cut at %d of %d bytes decoded", n, len(b))
		}
	}
	if _, err := decodeConfigBytes(append(b, 0)); err == nil {
		t.Fatal("trailing byte decoded")
	}
}

func FuzzDecodeConfig(f *testing.F) {
	f.Add(encodeConfig(Config{Argv: []string{"/bin/true"}, Network: NetworkNone}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := decodeConfigBytes(b)
		if err != nil {
			return
		}
		again, err := decodeConfigBytes(encodeConfig(cfg))
		if err != nil || !reflect.DeepEqual(again, cfg) {
			t.Fatalf("decoded %+v does not survive a round trip: %v", cfg, err)
		}
	})
}
