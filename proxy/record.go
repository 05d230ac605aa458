package proxy

import (
	"time"

	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/jsonrpc"
)

// record writes an audit record. Failures are reported on stderr and
// returned, so that a call whose decision cannot be recorded is refused.
func (p *Proxy) record(r audit.Record) error {
	r.Warnings = p.cfg.Warnings
	if p.cfg.Observe != nil {
		p.cfg.Observe(r, time.Now(), p.protocolVersion())
	}
	if p.cfg.Audit == nil {
		return nil
	}
	if err := p.cfg.Audit.Write(r); err != nil {
		p.diag("writing the audit log: %v", err)
		return err
	}
	return nil
}

// outcome records how an audited call ended.
func (p *Proxy) outcome(c *call, outcome, detail string) {
	if c.release != nil {
		c.release()
	}
	if !c.audited {
		return
	}
	_ = p.record(audit.Record{Event: "outcome", Method: c.method, RequestID: c.id.Raw(), Target: c.target,
		Outcome: outcome, ErrorMessage: detail, Duration: time.Since(c.start), Guards: c.notes})
}

// finished records the outcome of an answered call.
func (p *Proxy) finished(c *call, m *jsonrpc.Message) {
	if !c.audited {
		return
	}
	switch {
	case m.Error != nil:
		p.outcome(c, "error", m.Error.Message)
	case c.method == "tools/call" && isError(m.Result):
		p.outcome(c, "isError", "")
	default:
		p.outcome(c, "ok", "")
	}
}

// isError reports whether a tools/call result says the tool failed.
func isError(result []byte) bool {
	// Fields skips the members it does not want at the speed of a
	// search for quotes: one pass, however the name is spelled.
	f, err := fields(result, "isError")
	return err == nil && string(f[0]) == "true"
}
