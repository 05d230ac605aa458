package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/filter"
	"github.com/mcpwarden/mcpwarden/jsonrpc"
	"github.com/mcpwarden/mcpwarden/profile"
	"github.com/mcpwarden/mcpwarden/proxy"
	"github.com/mcpwarden/mcpwarden/supervise"
	"github.com/mcpwarden/mcpwarden/telemetry"
)

// runFlags are the options of "mcpwarden run".
type runFlags struct {
	profile    string
	auditLog   string
	maxMessage string
	maxBytes   int // maxMessage parsed, set by parseRunFlags
	grace      time.Duration
	bestEffort bool
	pinDir     string
}

// runFlagSet is the flag set of "mcpwarden run", binding into f; the
// command reference documents run's flags from it.
func runFlagSet(f *runFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&f.profile, "profile", "", "`NAME|FILE`: a built-in profile's name, or a TOML file's path, with a / or a .toml ending (default: the built-in profile matching CMD, else \"default\")")
	fs.StringVar(&f.auditLog, "audit-log", "", "audit log `FILE` (default: $XDG_STATE_HOME/mcpwarden/SERVER.jsonl)")
	fs.StringVar(&f.maxMessage, "max-message-size", "16MiB", "largest JSON-RPC message accepted in either direction, a `SIZE` from 1KiB to 1GiB")
	fs.DurationVar(&f.grace, "grace", 5*time.Second, "how long (a `DURATION`) the server gets to exit at each stage of stopping: stdin closed, SIGTERM, SIGKILL")
	fs.StringVar(&f.pinDir, "pin-dir", "", "`DIR` of pinned tool definitions (default: $XDG_STATE_HOME/mcpwarden/pins)")
	fs.BoolVar(&f.bestEffort, "best-effort", false, "start even when the kernel lacks a sandbox feature the profile asks for (warns instead)")
	return fs
}

// parseRunFlags returns run's flags and the server's command line, and
// code -1 to go on, or the exit status after help or a usage error.
func parseRunFlags(args []string, stdout, stderr io.Writer) (*runFlags, []string, int) {
	f := &runFlags{}
	fs := runFlagSet(f)
	if code := parseFlags("run", fs, args, stdout, stderr); code >= 0 {
		return nil, nil, code
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return nil, nil, usageError(stderr, commandDoc("run"), "run: no server command given after --")
	}
	n, err := profile.ParseSize(f.maxMessage)
	if err != nil || n < 1024 || n > 1<<30 {
		return nil, nil, usageError(stderr, commandDoc("run"), "run: --max-message-size %q: want a size between 1KiB and 1GiB", f.maxMessage)
	}
	f.maxBytes = int(n)
	return f, argv, -1
}

func runCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, argv, code := parseRunFlags(args, stdout, stderr)
	if code >= 0 {
		return code
	}
	code, err := run(f, argv, stdin, stdout, stderr)
	if err != nil {
		diag(stderr, "%v", err)
		return max(code, 1)
	}
	return code
}

func run(f *runFlags, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	prof, err := chooseProfile(f.profile, argv)
	if err != nil {
		return 1, err
	}
	policy, err := filter.New(filter.Rules(prof.Tools), filter.Rules(prof.Resources), filter.Rules(prof.Prompts))
	if err != nil {
		return 1, fmt.Errorf("profile %s: %w", prof.Origin, err)
	}
	paths, err := expandPaths(prof, argv[1:])
	if err != nil {
		return 1, err
	}
	g, err := buildGuards(prof, paths, argv[1:], f.pinDir)
	if err != nil {
		return 1, err
	}
	session := newSessionID()
	auditLog, err := openAudit(f.auditLog, prof.Server.Name, session)
	if err != nil {
		return 1, err
	}
	defer auditLog.Close()
	tel := telemetry.StartFromEnv(os.LookupEnv, prof.Server.Name, session, func(msg string) { diag(stderr, "%s", msg) })
	defer tel.Close() // bounded by telemetry.FlushTimeout

	eg, err := newEgress(prof)
	if err != nil {
		return 1, err
	}
	defer eg.close()
	cmd, warnings, err := sandboxCommand(prof, paths, argv, f.bestEffort, eg)
	if err != nil {
		return 1, missingFeatureHint(err)
	}
	for _, w := range warnings {
		diag(stderr, "warning: %s", w)
	}
	proc, serverIn, serverOut, err := supervise.Start(cmd, stderr)
	if err != nil {
		return 1, err
	}
	if err := eg.serve(auditLog, stderr); err != nil {
		proc.Stop(f.grace)
		return 1, err
	}
	px := proxy.New(proxy.Config{
		Policy:         policy,
		Audit:          auditLog,
		Diag:           func(msg string) { diag(stderr, "%s", msg) },
		MaxMessageSize: f.maxBytes,
		MaxDepth:       jsonrpc.DefaultMaxDepth,
		Warnings:       warnings,
		Calls:          g.calls,
		Pins:           g.pins,
		Observe:        tel.Observer(),
		Widen:          widenPipes(stdin, stdout, serverIn, serverOut),
	}, proxy.Streams{ClientIn: stdin, ClientOut: stdout, ServerIn: serverIn, ServerOut: serverOut})

	stopSignals := relaySignals(proc)
	defer stopSignals()
	go func() {
		<-px.ClientGone()
		proc.Stop(f.grace)
	}()

	done := make(chan struct{})
	go func() {
		defer close(done)
		px.Run(func() string { return serverEnding(proc) })
	}()
	// The server's output ends at the latest when the sandbox's init does:
	// every process that could hold it open dies with the PID namespace.
	<-done
	px.CloseServerInput()
	proc.Stop(f.grace)
	return proc.ExitCode(), nil
}

// serverEnding says how the server ended once its output has closed.
func serverEnding(proc *supervise.Process) string {
	select {
	case <-proc.Done():
		return proc.Describe()
	case <-time.After(time.Second):
		return "closed its output"
	}
}

func chooseProfile(flagValue string, argv []string) (*profile.Profile, error) {
	if flagValue != "" {
		return resolveProfile(flagValue)
	}
	return profile.Select(argv)
}

func openAudit(path, server, session string) (*audit.Log, error) {
	if path == "" {
		var err error
		if path, err = audit.DefaultPath(server); err != nil {
			return nil, fmt.Errorf("audit log: %w (pass --audit-log FILE)", err)
		}
	}
	l, err := audit.Open(path, server, session)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w (name a file this user can create or write with --audit-log FILE)", err)
	}
	return l, nil
}

func newSessionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// relaySignals passes the signals that ask mcpwarden to stop on to the
// server, which decides how to stop; mcpwarden exits when it has. SIGPIPE
// is caught so that a client that goes away makes writes fail instead of
// killing mcpwarden before it has stopped the server.
func relaySignals(proc *supervise.Process) (stop func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE)
	go func() {
		for sig := range ch {
			if s, ok := sig.(syscall.Signal); ok && s != syscall.SIGPIPE {
				proc.Signal(s)
			}
		}
	}()
	return func() { signal.Stop(ch); close(ch) }
}

// widenPipes gives the pipes of the direction a large message came from a
// larger kernel buffer, so the next large message crosses them with a
// sixteenth of the wake-ups. It is best effort: a pipe that cannot be
// widened is as fast as it was.
func widenPipes(stdin, stdout, serverIn, serverOut any) func(fromServer bool) {
	return func(fromServer bool) {
		ends := []any{stdin, serverIn}
		if fromServer {
			ends = []any{serverOut, stdout}
		}
		for _, end := range ends {
			_ = supervise.WidenPipe(end)
		}
	}
}
