package filter

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/mcpwarden/mcpwarden/profile"
)

// Resolver resolves host names for url arguments; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// newArgChecker compiles one argument kind.
func newArgChecker(a profile.ArgRule, cfg CallsConfig) (argChecker, error) {
	return nil, fmt.Errorf("argument kind %q is not available", a.Kind)
}
