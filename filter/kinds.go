package filter

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/mcpwarden/mcpwarden/cmdguard"
	"github.com/mcpwarden/mcpwarden/pathguard"
	"github.com/mcpwarden/mcpwarden/profile"
	"github.com/mcpwarden/mcpwarden/sqlguard"
	"github.com/mcpwarden/mcpwarden/urlguard"
)

// newArgChecker compiles one argument kind.
func newArgChecker(a profile.ArgRule, cfg CallsConfig, paths *pathguard.Guard) (argChecker, error) {
	switch a.Kind {
	case profile.KindPath:
		access := pathguard.Read
		if a.Access == "write" {
			access = pathguard.Write
		}
		return pathArg{paths, access}, nil
	case profile.KindURL:
		r := urlguard.Rule{Schemes: a.Schemes, AllowHosts: a.AllowHosts, DenyHosts: a.DenyHosts}
		for _, s := range a.AllowPrivate {
			pfx, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("allow_private %q: %w", s, err)
			}
			r.AllowPrivate = append(r.AllowPrivate, pfx)
		}
		c, err := urlguard.New(r, cfg.Resolver)
		if err != nil {
			return nil, err
		}
		return urlArg{c}, nil
	case profile.KindSQL:
		d, err := sqlguard.ParseDialect(a.Dialect)
		if err != nil {
			return nil, err
		}
		c, err := sqlguard.New(sqlguard.Rule{Dialect: d, DenyFunctions: a.DenyFunctions})
		if err != nil {
			return nil, err
		}
		return sqlArg{c}, nil
	case profile.KindCommand:
		c, err := cmdguard.New(cmdguard.Rule{Allow: a.Allow})
		if err != nil {
			return nil, err
		}
		return commandArg{c}, nil
	}
	return nil, fmt.Errorf("unknown argument kind %q", a.Kind)
}

type pathArg struct {
	g      *pathguard.Guard
	access pathguard.Access
}

func (p pathArg) check(_ context.Context, s string) error {
	_, err := p.g.Check(s, p.access)
	return err
}

type urlArg struct{ c *urlguard.Checker }

func (u urlArg) check(ctx context.Context, s string) error { return u.c.Check(ctx, s) }

type sqlArg struct{ c *sqlguard.Checker }

func (q sqlArg) check(_ context.Context, s string) error { return q.c.Check(s) }

type commandArg struct{ c *cmdguard.Checker }

func (c commandArg) check(_ context.Context, s string) error { return c.c.CheckString(s) }
