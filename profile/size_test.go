package profile

import (
	"math"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"4096", 4096},
		{"10B", 10},
		{"10b", 10},
		{"1K", 1 << 10},
		{"1k", 1 << 10},
		{"1KiB", 1 << 10},
		{"1kib", 1 << 10},
		{"1KB", 1000},
		{"1kb", 1000},
		{"512MiB", 512 << 20},
		{"512M", 512 << 20},
		{"100MB", 100_000_000},
		{"1GiB", 1 << 30},
		{"1G", 1 << 30},
		{"2GB", 2_000_000_000},
		{"1TiB", 1 << 40},
		{"3TB", 3_000_000_000_000},
		{" 1 GiB ", 1 << 30},
		{"007", 7},
		{"8589934591GiB", 8589934591 << 30},
	} {
		got, err := ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", " ", "GiB", "-1", "+1", "1.5GiB", "1,5G", "1e9", "1 000", "1GiBB", "1Gi", "1PB", "1 G B",
		"0x10", "8589934592GiB", "9223372036854775808", "99999999999999999999", "1\x00",
	} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
	if got, err := ParseSize("9223372036854775807"); err != nil || got != math.MaxInt64 {
		t.Errorf("ParseSize(max int64) = %d, %v", got, err)
	}
}
