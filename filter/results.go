package filter

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/sanitize"
)

// binaryMembers hold base64 data in MCP results (image and audio
// content, blob resources); secret patterns in them are noise.
var binaryMembers = map[string]bool{"data": true, "blob": true}

// GuardResult applies the result guards to the result of method about
// target (the tool, resource URI or prompt name): the size limit, hidden
// text and secrets. It returns the result to forward (result itself when
// nothing changed) and notes on what was changed, for the audit record.
// An error means the result must not reach the client at all.
//
// Hidden text is stripped from every result, since all of it (tool
// output, descriptions, resource text) is read by the model; secrets are
// looked for in the results that carry the server's data. Both happen in
// one pass over the result's strings.
func (c *Calls) GuardResult(target, method string, result jsontext.Value) (jsontext.Value, []string, error) {
	if method == "tools/call" {
		if limit := c.MaxResultSize(target); limit > 0 && int64(len(result)) > limit {
			return nil, nil, fmt.Errorf("the result of %s is %d bytes, more than the profile's max_result_size of %d", target, len(result), limit)
		}
	}
	mode := "off"
	if carriesData(method) {
		mode = c.secrets
		if method == "tools/call" {
			mode = c.secretMode(target)
		}
	}
	out, notes, found, err := c.guardStrings(result, mode, binaryMembers)
	if err != nil {
		return nil, nil, err
	}
	if len(found) > 0 && mode == "block" {
		return nil, nil, fmt.Errorf("the result of %s carries a secret (%s) and the profile blocks such results", target, strings.Join(found, ", "))
	}
	return out, notes, nil
}

// GuardServerMessage applies the same guards to the params of a request
// or notification the server sends the client. Those reach the model
// too: a sampling/createMessage request is a prompt for the client's
// model, an elicitation/create message and a log message are shown to
// the user, and a progress message may be read back. Hidden text is
// stripped from all of them; secrets (under [guards] secrets) are looked
// for in the three that carry free text of the server's choosing. An
// error means the message must not reach the client.
func (c *Calls) GuardServerMessage(method string, params jsontext.Value) (jsontext.Value, []string, error) {
	mode := "off"
	switch method {
	case "sampling/createMessage", "elicitation/create", "notifications/message":
		mode = c.secrets
	}
	binary := binaryMembers
	if method == "notifications/message" {
		binary = nil // its data member is the log text, not base64
	}
	out, notes, found, err := c.guardStrings(params, mode, binary)
	if err != nil {
		return nil, nil, err
	}
	if len(found) > 0 && mode == "block" {
		return nil, nil, fmt.Errorf("the server's %s carries a secret (%s) and the profile blocks such messages", method, strings.Join(found, ", "))
	}
	return out, notes, nil
}

// guardStrings strips hidden text (when the profile does) and redacts
// secrets (unless mode is "off") in every string of v but those of the
// binary members, in one pass. It returns v itself when nothing changed,
// notes on what changed, and the kinds of secrets found.
func (c *Calls) guardStrings(v jsontext.Value, mode string, binary map[string]bool) (jsontext.Value, []string, []string, error) {
	hide := c.stripHidden && mayHide(v)
	if !hide && mode == "off" {
		return v, nil, nil, nil
	}
	var stripped, found []string
	out, changed, err := rewriteStrings(v, func(member, s string) (string, bool) {
		changed := false
		if hide {
			var what string
			if s, what = stripHidden(s); what != "" {
				stripped, changed = append(stripped, what), true
			}
		}
		if mode != "off" && !binary[member] {
			var red bool
			s, red = c.redactString(s, &found)
			changed = changed || red
		}
		return s, changed
	}, c.scratch)
	if err != nil {
		return nil, nil, nil, err
	}
	if !changed {
		return v, nil, found, nil
	}
	var notes []string
	if len(stripped) > 0 {
		notes = append(notes, "hidden text stripped: "+strings.Join(dedupe(stripped), "; "))
	}
	if len(found) > 0 {
		notes = append(notes, "secrets redacted: "+strings.Join(found, ", "))
	}
	return out, notes, found, nil
}

// carriesData reports the methods whose results carry text from the
// server's data to the model, where secrets may hide.
func carriesData(method string) bool {
	switch method {
	case "tools/call", "resources/read", "prompts/get":
		return true
	}
	return false
}

// mayHide reports whether a validated JSON text can hold anything that
// sanitize removes. JSON must escape C0 controls, so ESC and its kind
// appear only as \u, \b or \f escapes; everything else sanitize strips
// is DEL or a multi-byte UTF-8 sequence. Text without any of these,
// the common case, is not decoded at all.
func mayHide(v jsontext.Value) bool {
	for i, b := range v {
		switch {
		case b >= 0x7f:
			return true
		case b == '\\' && i+1 < len(v) && (v[i+1] == 'u' || v[i+1] == 'b' || v[i+1] == 'f'):
			return true
		}
	}
	return false
}

// stripHidden removes hidden text and says what it removed; for tag
// characters it also says what they spelled, so that the audit log shows
// the smuggled instruction.
func stripHidden(s string) (string, string) {
	clean, rep := sanitize.String(s)
	if rep.Clean() {
		return s, ""
	}
	what := fmt.Sprintf("%d hidden characters or sequences (%s)", rep.Removed, strings.Join(rep.Kinds, ", "))
	if payload := sanitize.TagPayload(s); payload != "" {
		if len(payload) > 200 {
			payload = payload[:200] + "…"
		}
		what += fmt.Sprintf(", tag characters spelling %q", payload)
	}
	return clean, what
}

func dedupe(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
