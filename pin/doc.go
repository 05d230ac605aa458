// Package pin defends against "rug pulls": an MCP server that shows
// harmless tool definitions when it is first installed and reviewed, and
// changes them later, for instance to a description with hidden
// instructions for the model or an input schema with an extra parameter
// that carries data out. Policy rules written against the first
// definitions say nothing about the later ones, so the definitions
// themselves are pinned.
//
// # Pins
//
// The first time a server's tools are seen (per server name, which is the
// profile's), the definition of each tool is recorded as accepted: the
// members name, title, description, inputSchema, outputSchema and
// annotations, in the canonical form of [Canonical] and with its SHA-256
// digest. From then on [Store.Check] compares each listed tool with its
// pin:
//
//   - a tool with its accepted definition is Pinned;
//   - a tool whose definition differs is Changed;
//   - a tool never seen before is New: a server that adds a tool after its
//     first listing is treated like one that changes a tool, since the new
//     tool is just as unreviewed;
//   - a tool that is no longer listed is not an error and is not recorded.
//
// Changed and New tools are blocked: the proxy hides them from tools/list,
// refuses calls to them, and reports them on stderr and in the audit log,
// until the user accepts the change with "mcpwarden pin accept SERVER
// [TOOL...]". Their definitions are kept as pending in the pin file, so
// that "mcpwarden pin show SERVER" can show what changed ([WriteDiff]).
//
// Only the very first listing is pinned without asking. If a server pages
// its tools/list result, the tools of the later pages on that first run
// come out New and wait for acceptance; that errs on the side of asking.
//
// # Files
//
// Each server's pins are one JSON file, SERVER.json, in a directory
// ([DefaultDir]: $XDG_STATE_HOME/mcpwarden/pins) of mode 0700; files are
// written with mode 0600. A directory or file that another user owns or
// that group or others can write is refused, since whoever can write it
// can accept any definition. Files are replaced atomically (a temporary
// file in the same directory, synced, then renamed) and every access holds
// an flock(2) lock on SERVER.lock beside the file, so concurrent mcpwarden
// processes for one server see and leave a consistent file. Files larger
// than [MaxFileBytes] are refused. A file that cannot be parsed or whose
// digests do not match is an error, never a reason to pin afresh: starting
// over would accept whatever the server shows now.
//
// # Markers
//
// Independently of pinning, [Scan] looks in a definition's text for the
// marks of tool poisoning: instruction tags such as <IMPORTANT>, requests
// to ignore earlier instructions or to keep something from the user,
// preconditions that send the model to read files, sensitive paths, and
// references to other tools or servers. A finding is a reason to flag the
// tool, not proof; hiding is decided by pins and policy. Scan reads the
// text as the sanitize package leaves it, so that characters a reader does
// not see cannot split a marker; look-alike characters are not mapped.
package pin
