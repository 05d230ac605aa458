package proxy

import (
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/filter"
	"github.com/mcpwarden/mcpwarden/jsonrpc"
	"github.com/mcpwarden/mcpwarden/pin"
)

// toolsList checks a tools/list result: the server's tools pinned
// (all of them, so that editing the profile's deny list never makes a
// tool look new), changed ones hidden, descriptions scanned, and the input
// schemas compiled for checking calls. filtered is the result the policy
// has filtered; toolsList returns it with the changed tools removed too.
func (p *Proxy) toolsList(raw, filtered jsontext.Value) (jsontext.Value, error) {
	result := filtered
	if p.cfg.Pins == nil && p.cfg.Calls == nil {
		return result, nil
	}
	tools, err := pin.ToolsFromList(raw)
	if err != nil {
		return nil, err
	}
	hide := map[string]string{}
	if p.cfg.Pins != nil {
		if hide, err = p.pinTools(tools); err != nil {
			return nil, err
		}
	}
	p.learnSchemas(tools, hide)
	if len(hide) == 0 {
		return result, nil
	}
	out, _, err := p.cfg.Policy.FilterListHiding("tools/list", result, func(name string) bool { return hide[name] != "" })
	return out, err
}

// pinTools checks tools against their pins and returns the tools to hide,
// with the reason. The pages of the first listing a server ever gives are
// all first sight, however many pages there are, until the server says
// its list changed.
func (p *Proxy) pinTools(tools []pin.Tool) (map[string]string, error) {
	verdicts, err := p.cfg.Pins.Check(tools)
	if err != nil {
		return nil, err
	}
	hide := map[string]string{}
	var later []string
	for _, v := range verdicts {
		switch {
		case v.Status == pin.FirstSight:
			p.firstSight.Store(true)
		case v.Status == pin.New && p.firstSight.Load():
			later = append(later, v.Name)
		case v.Blocked():
			hide[v.Name] = fmt.Sprintf("the definition of tool %q is %s since it was pinned; review it with `mcpwarden pin show %s` and accept it with `mcpwarden pin accept %s %s`",
				v.Name, statusWord(v.Status), p.cfg.Pins.Server(), p.cfg.Pins.Server(), v.Name)
		}
	}
	if len(later) > 0 {
		if _, err := p.cfg.Pins.Accept(later...); err != nil {
			return nil, err
		}
	}
	for _, t := range tools {
		if why := hide[t.Name]; why != "" {
			p.warnOnce("hidden:"+t.Name, t.Name, "hid tool "+quoteName(t.Name)+": "+why)
			continue
		}
		for _, f := range pin.Scan(t.Definition) {
			p.warnOnce("scan:"+t.Name+":"+f.Where+":"+f.Marker, t.Name,
				fmt.Sprintf("tool %s has an instruction-like %s in its %s: a sign of tool poisoning", quoteName(t.Name), f.Marker, f.Where))
		}
	}
	return hide, nil
}

func statusWord(s pin.Status) string {
	if s == pin.New {
		return "new"
	}
	return "changed"
}

// warnOnce reports a guard's finding on stderr and in the audit log, once
// per session for each key.
func (p *Proxy) warnOnce(key, target, msg string) {
	if _, loaded := p.warned.LoadOrStore(key, true); loaded {
		return
	}
	p.diag("%s", msg)
	p.note(target, msg)
}

func quoteName(s string) string { return fmt.Sprintf("%q", s) }

// learnSchemas compiles the input schema of each tool kept. A schema that
// does not compile makes calls of its tool fail closed: mcpwarden cannot
// check arguments against what it cannot read.
func (p *Proxy) learnSchemas(tools []pin.Tool, hide map[string]string) {
	p.tools.mu.Lock()
	defer p.tools.mu.Unlock()
	for _, t := range tools {
		prev := p.tools.tools[t.Name]
		info := toolInfo{hidden: hide[t.Name]}
		if info.hidden != "" {
			p.tools.tools[t.Name] = info
			continue
		}
		raw := inputSchema(t.Definition)
		info.schemaText = string(raw)
		switch {
		case raw == nil:
		case info.schemaText == prev.schemaText && prev.hidden == "":
			// Listed again as it was: keep what was compiled, so that
			// every tools/list does not compile every schema anew.
			info.schema, info.broken = prev.schema, prev.broken
		default:
			s, err := filter.CompileSchema(raw)
			if err != nil {
				info.broken = err.Error()
				p.diag("tool %q: its input schema cannot be used, so its calls are refused: %v", t.Name, err)
			}
			info.schema = s
		}
		p.tools.tools[t.Name] = info
	}
}

func inputSchema(def []byte) jsontext.Value {
	out := make([]jsontext.Value, 1)
	if jsonrpc.Fields(def, []string{"inputSchema"}, out) != nil || out[0].Kind() != '{' {
		return nil
	}
	return out[0]
}

// toolsChanged is called when the server says its tool list changed: the
// next listing is judged against the pins again, not as a first sight.
func (p *Proxy) toolsChanged() {
	p.firstSight.Store(false)
}
