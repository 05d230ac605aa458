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

// notString is a value of the wrong JSON type for its kind.
type notString struct{ want string }

func (e notString) Error() string { return "must be " + e.want }

// str returns v as a string, or why it is not one.
func str(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", notString{"a string"}
	}
	return s, nil
}

type pathArg struct {
	g      *pathguard.Guard
	access pathguard.Access
}

func (p pathArg) check(_ context.Context, v any) error {
	s, err := str(v)
	if err == nil {
		_, err = p.g.Check(s, p.access)
	}
	return err
}

type urlArg struct{ c *urlguard.Checker }

func (u urlArg) check(ctx context.Context, v any) error {
	s, err := str(v)
	if err == nil {
		err = u.c.Check(ctx, s)
	}
	return err
}

type sqlArg struct{ c *sqlguard.Checker }

func (q sqlArg) check(_ context.Context, v any) error {
	s, err := str(v)
	if err == nil {
		err = q.c.Check(s)
	}
	return err
}

// commandArg takes a command as one string, which must have no shell
// syntax, or as an argv array, which the server runs without a shell.
type commandArg struct{ c *cmdguard.Checker }

func (c commandArg) check(_ context.Context, v any) error {
	switch v := v.(type) {
	case string:
		return c.c.CheckString(v)
	case []any:
		argv := make([]string, len(v))
		for i, w := range v {
			s, ok := w.(string)
			if !ok {
				return notString{"a string or an array of strings"}
			}
			argv[i] = s
		}
		return c.c.CheckArgv(argv)
	}
	return notString{"a string or an array of strings"}
}
