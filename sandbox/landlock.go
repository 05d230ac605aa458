package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// Landlock is the second wall around the file system: the mount
// namespace decides what exists inside the sandbox, Landlock decides what
// may be done with it, and still holds if a mount is misconfigured or the
// namespace could not be had. It also refuses TCP (the network namespace
// is the first wall there) and, from ABI 6, confines signals and
// abstract UNIX sockets to the sandbox.
//
// go-landlock applies the domain to every thread of the process (through
// libpsx below ABI 8, with the kernel's TSYNC from ABI 8). The init calls
// restrictLandlock and then starts the server, which inherits the
// domain; the two are in the same domain, so the init can still signal
// the server under signal scoping, while neither can signal mcpwarden or
// anything else outside.

// Access right groups, as Landlock bits.
const (
	llRead = ll.AccessFSExecute | ll.AccessFSReadFile | ll.AccessFSReadDir
	// llFile is what the kernel accepts on a rule for a non-directory.
	llFile = ll.AccessFSExecute | ll.AccessFSWriteFile | ll.AccessFSReadFile |
		ll.AccessFSTruncate | ll.AccessFSIoctlDev
	// llWriteExcluded stays denied even in write paths: ioctl on
	// devices, and connecting to UNIX sockets created outside the sandbox.
	llWriteExcluded = ll.AccessFSIoctlDev | ll.AccessFSResolveUnix
	llDevice        = ll.AccessFSReadFile | ll.AccessFSWriteFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev
)

// landlockDevices are device files every program may use, whichever
// paths the profile lists. They hold no state, so reading, writing and
// their ioctls (which answer ENOTTY, or RNDGETENTCNT for the random
// devices) are safe; with ioctl refused, isatty() on them would fail with
// EACCES instead of ENOTTY.
func landlockDevices() []string {
	return []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"}
}

// landlockPolicy is what the Landlock domain allows.
type landlockPolicy struct {
	// read paths get read and execute access, write paths full
	// file-system access (with moving files between them, but without
	// device ioctls). Paths that do not exist are skipped.
	read, write []string
	// hostNetwork leaves the network alone, for network = "host".
	hostNetwork bool
	// connectTCP lists the TCP ports the sandbox may still connect to
	// when the network is restricted (an egress forwarder).
	connectTCP []uint16
}

// restrictLandlock confines every thread of the calling process, and so
// everything it starts afterwards, to read (read and execute) and write
// (full access) plus the harmless devices in /dev, refuses all TCP bind
// and connect (ABI 4), and scopes signals and abstract UNIX sockets to the
// sandbox (ABI 6). The caller includes the base set (/usr, /lib, ...) in
// read, and puts the sandbox's private /tmp and /dev/shm in write when it
// wants them writable.
//
// It uses the highest Landlock ABI the kernel offers. A feature the
// kernel lacks is an error naming it, unless bestEffort: then the rest is
// enforced and each missing feature comes back as a warning.
func restrictLandlock(read, write []string, bestEffort bool) (warnings []string, err error) {
	return restrictLandlockPolicy(landlockPolicy{read: read, write: write}, bestEffort)
}

// restrictLandlockPolicy is restrictLandlock with the network choices
// spelled out.
func restrictLandlockPolicy(p landlockPolicy, bestEffort bool) (warnings []string, err error) {
	abi, abiErr := landlockABI()
	cfg, warnings, err := planLandlock(abi, abiErr, p.hostNetwork, bestEffort)
	if err != nil || cfg == nil {
		return warnings, err
	}
	rules, err := landlockRules(p, *cfg)
	if err != nil {
		return nil, err
	}
	if err := cfg.Restrict(rules...); err != nil {
		return nil, fmt.Errorf("enforcing the ruleset: %w", err)
	}
	return warnings, nil
}

// landlockFeature is a Landlock capability the sandbox relies on.
type landlockFeature struct {
	abi     int
	what    string
	linux   string
	network bool // needed only while the network is restricted
}

func landlockFeatures() []landlockFeature {
	return []landlockFeature{
		{1, "file-system access control", "5.13", false},
		{3, "file truncation control", "6.2", false},
		{4, "TCP bind and connect control", "6.7", true},
		{5, "device ioctl control", "6.10", false},
		{6, "signal and abstract UNIX socket scoping", "6.12", false},
	}
}

// landlockFullABI is the lowest ABI with every feature the sandbox uses.
const landlockFullABI = 6

// landlockMissing describes the features ABI abi lacks, one string each.
func landlockMissing(abi int, hostNetwork bool) []string {
	var missing []string
	for _, f := range landlockFeatures() {
		if f.abi > abi && !(f.network && hostNetwork) {
			missing = append(missing, fmt.Sprintf("%s (ABI %d, Linux %s)", f.what, f.abi, f.linux))
		}
	}
	return missing
}

// landlockPresets are go-landlock's configurations, index ABI-1; each
// handles every right its ABI knows.
func landlockPresets() []landlock.Config {
	return []landlock.Config{
		landlock.V1, landlock.V2, landlock.V3, landlock.V4, landlock.V5, landlock.V6,
		landlock.V7, landlock.V8, landlock.V9, landlock.V10, landlock.V11,
	}
}

// planLandlock chooses the configuration for a kernel with ABI abi (0 and
// abiErr when Landlock is unavailable). A nil configuration with no error
// means there is nothing to enforce.
func planLandlock(abi int, abiErr error, hostNetwork, bestEffort bool) (*landlock.Config, []string, error) {
	if abi < 1 {
		reason, hint := landlockUnavailable(abiErr)
		msg := "Landlock is unavailable: " + reason + " (" + hint + ")"
		if !bestEffort {
			return nil, nil, errors.New(msg)
		}
		return nil, []string{msg + "; file-system and network rules rest on the namespaces alone"}, nil
	}
	var warnings []string
	if missing := landlockMissing(abi, hostNetwork); len(missing) > 0 {
		if !bestEffort {
			return nil, nil, fmt.Errorf("the kernel's Landlock ABI %d lacks %s", abi, strings.Join(missing, ", "))
		}
		for _, m := range missing {
			warnings = append(warnings, fmt.Sprintf("Landlock ABI %d lacks %s: not enforced", abi, m))
		}
	}
	presets := landlockPresets()
	cfg := presets[min(abi, len(presets))-1]
	if hostNetwork {
		cfg.HandledAccessNet = 0
	}
	return &cfg, warnings, nil
}

// landlockRules turns the policy into rules for cfg, skipping paths that
// do not exist and rights cfg does not handle.
func landlockRules(p landlockPolicy, cfg landlock.Config) ([]landlock.Rule, error) {
	handled := cfg.HandledAccessFS
	writeRights := handled &^ llWriteExcluded
	var rules []landlock.Rule
	add := func(paths []string, rights landlock.AccessFSSet) error {
		for _, path := range paths {
			rule, ok, err := pathRule(path, rights&handled)
			if err != nil {
				return err
			}
			if ok {
				rules = append(rules, rule)
			}
		}
		return nil
	}
	if err := add(p.read, llRead); err != nil {
		return nil, err
	}
	if err := add(p.write, writeRights); err != nil {
		return nil, err
	}
	if err := add(landlockDevices(), llDevice); err != nil {
		return nil, err
	}
	if cfg.HandledAccessNet&ll.AccessNetConnectTCP != 0 {
		for _, port := range p.connectTCP {
			rules = append(rules, landlock.ConnectTCP(port))
		}
	}
	return rules, nil
}

// pathRule grants rights beneath path, restricted to what the kernel
// accepts for a file when path is not a directory. ok is false when
// there is nothing to grant: the path does not exist, or no right is
// left.
func pathRule(path string, rights landlock.AccessFSSet) (rule landlock.Rule, ok bool, err error) {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !st.IsDir() {
		rights &= llFile
	}
	if rights == 0 {
		return nil, false, nil
	}
	return landlock.PathAccess(rights, path), true, nil
}

// landlockABI returns the kernel's Landlock ABI version, or 0 and the
// reason. Like go-landlock, it treats an ABI 6+ kernel whose signal
// scoping is known broken (erratum 2 not fixed) as ABI 5, and caps the
// version at the newest go-landlock knows.
func landlockABI() (int, error) {
	abi, err := ll.LandlockGetABIVersion()
	if err != nil {
		return 0, err
	}
	if abi >= 6 {
		if errata, err := ll.LandlockGetErrata(); err != nil || errata&0x2 == 0 {
			abi = 5
		}
	}
	return min(abi, len(landlockPresets())), nil
}

// landlockUnavailable explains err from landlockABI and what to do.
func landlockUnavailable(err error) (reason, hint string) {
	switch {
	case errors.Is(err, unix.ENOSYS):
		return "the kernel was built without Landlock", "Linux 5.13 or later with CONFIG_SECURITY_LANDLOCK=y is needed"
	case errors.Is(err, unix.EOPNOTSUPP):
		return "Landlock is built in but not enabled", "add landlock to the lsm= kernel boot parameter"
	case err == nil:
		return "the kernel reports no Landlock ABI", "Linux 5.13 or later is needed"
	default:
		return fmt.Sprintf("landlock_create_ruleset: %v", err), "check whether a seccomp filter (e.g. a container's) blocks the Landlock syscalls"
	}
}
