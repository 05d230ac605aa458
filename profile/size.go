package profile

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize parses a size such as "1GiB", "512MiB", "100MB" or "4096" into
// bytes. The number is a non-negative whole number; the unit is optional and
// case-insensitive: B; KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB
// and the bare K, M, G, T are powers of 1024, as in ulimit and container
// tools. Blanks around the number and the unit are ignored.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && '0' <= t[i] && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q does not start with a whole number (write a number and a unit, such as \"512MiB\")", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	unit := strings.TrimSpace(t[i:])
	if strings.HasPrefix(unit, ".") {
		return 0, fmt.Errorf("size %q is not a whole number (use a smaller unit, such as \"1536MiB\" for 1.5GiB)", s)
	}
	mult, ok := sizeUnit(strings.ToLower(unit))
	if !ok {
		return 0, fmt.Errorf("size %q has unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, unit)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

func sizeUnit(unit string) (int64, bool) {
	const (
		ki = 1 << 10
		k  = 1000
	)
	switch unit {
	case "", "b":
		return 1, true
	case "k", "kib":
		return ki, true
	case "m", "mib":
		return ki * ki, true
	case "g", "gib":
		return ki * ki * ki, true
	case "t", "tib":
		return ki * ki * ki * ki, true
	case "kb":
		return k, true
	case "mb":
		return k * k, true
	case "gb":
		return k * k * k, true
	case "tb":
		return k * k * k * k, true
	}
	return 0, false
}
