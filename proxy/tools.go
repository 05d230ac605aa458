package proxy

import (
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/filter"
	"github.com/mcpwarden/mcpwarden/pin"
)

// toolsList checks the server's tools/list result: the tools pinned (all
// of them, so that editing the profile's deny list never makes a tool
// look new), descriptions scanned, and input schemas compiled for
// checking calls. It returns the tools to hide besides those the policy
// denies: the ones changed since they were pinned.
func (p *Proxy) toolsList(result jsontext.Value) (hide func(name string) bool, err error) {
	if p.cfg.Pins == nil && p.cfg.Calls == nil {
		return nil, nil
	}
	tools, err := pin.ToolsFromList(result)
	if err != nil {
		return nil, err
	}
	hidden := map[string]string{}
	if p.cfg.Pins != nil {
		if hidden, err = p.pinTools(tools); err != nil {
			return nil, err
		}
		if f, err := fields(result, "nextCursor"); err == nil && (f[0] == nil || f[0].Kind() == 'n') {
			// The first listing ends with its last page: a tool that
			// appears in any later listing is new, whether or not the
			// server said its list changed.
			p.firstSight.Store(false)
		}
	}
	p.learnTools(tools, hidden)
	return func(name string) bool { return hidden[name] != "" }, nil
}

// pinTools checks tools against their pins and returns the tools to hide,
// with the reason. The pages of the first listing a server ever gives are
// all first sight, however many pages there are: the tools of its later
// pages are accepted as the digests Check saw, so that a definition
// swapped in between is not.
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
			later = append(later, v.Name+"@"+pin.Digest(v.New))
		case v.Blocked():
			hide[v.Name] = fmt.Sprintf("the definition of tool %q is %s since it was pinned; review it with `mcpwarden pin show %s` and accept it with `mcpwarden pin accept %s %s`",
				v.Name, statusWord(v.Status), p.cfg.Pins.Server(), p.cfg.Pins.Server(), v.Name)
		}
	}
	if len(later) > 0 {
		if _, err := p.cfg.Pins.Accept(later...); err != nil {
			// Another writer changed them since Check: not first sight.
			for _, name := range later {
				name, _, _ = strings.Cut(name, "@sha256:")
				hide[name] = fmt.Sprintf("the definition of tool %q changed while it was being pinned; review it with `mcpwarden pin show %s`", name, p.cfg.Pins.Server())
			}
		}
	}
	for _, v := range verdicts {
		if why := hide[v.Name]; why != "" {
			p.warnOnce("hidden:"+v.Name, v.Name, "hid tool "+quoteName(v.Name)+": "+why)
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

// learnTools records what the listing says of each tool kept: its
// definition is scanned for instruction-like text and its input schema
// compiled, each only when the tool is new or changed since the last
// listing. A schema that does not compile makes calls of its tool fail
// closed: mcpwarden cannot check arguments against what it cannot read.
func (p *Proxy) learnTools(tools []pin.Tool, hide map[string]string) {
	p.tools.mu.Lock()
	defer p.tools.mu.Unlock()
	for _, t := range tools {
		prev := p.tools.tools[t.Name]
		info := toolInfo{hidden: hide[t.Name], definition: string(t.Definition)}
		if info.hidden != "" {
			p.tools.tools[t.Name] = info
			continue
		}
		if info.definition == prev.definition && prev.hidden == "" {
			p.tools.tools[t.Name] = prev // listed again as it was
			continue
		}
		for _, f := range pin.Scan(t.Definition) {
			p.warnOnce("scan:"+t.Name+":"+f.Where+":"+f.Marker, t.Name,
				fmt.Sprintf("tool %s has an instruction-like %s in its %s: a sign of tool poisoning", quoteName(t.Name), f.Marker, f.Where))
		}
		if raw := inputSchema(t.Definition); raw != nil {
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
	f, err := fields(def, "inputSchema")
	if err != nil || f[0].Kind() != '{' {
		return nil
	}
	return f[0]
}

// toolsChanged is called when the server says its tool list changed: the
// next listing is judged against the pins again, not as a first sight.
func (p *Proxy) toolsChanged() {
	p.firstSight.Store(false)
}
