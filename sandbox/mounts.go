package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The file system view.
//
// The init builds a new root in a tmpfs and pivots into it, so that
// nothing of the host exists inside unless it was put there:
//
//   - read-only: /usr, /bin, /sbin, /lib* (recreated as symbolic links
//     where they are links, as on merged-/usr systems), the few files of
//     /etc that programs need at run time (baseEtc), the directory of the
//     server's executable (all of /opt when it lives there), and Read;
//   - writable: Write, a private /tmp, and a private home directory unless
//     Home lies in Read or Write;
//   - a fresh /proc of the sandbox's PID namespace, with the kernel's knobs
//     read-only and its secrets masked as runc does, and a minimal /dev;
//   - Hide and a few private-key directories covered by empty read-only
//     directories (by the null device, for files) wherever they are
//     visible.
//
// Symbolic links in paths are resolved on the host before anything is
// mounted, and the mount is made at the resolved path: a link inside a
// writable directory that points outside it leads nowhere inside, since
// its target is not in the view. Mount points are reached through file
// descriptors, one component at a time, refusing symbolic links, and
// directories are created only in the sandbox's own file systems.
// Bind mounts are recursive, and read-only, nosuid and nodev apply to
// every mount they contain (mount_setattr, Linux 5.12).

// Sizes of the sandbox's own file systems. Their contents are memory,
// charged to the sandbox's memory cgroup when there is one.
const (
	rootSize = "1m"
	devSize  = "1m"
	hideSize = "4k"
	tmpSize  = "512m"
	homeSize = "512m"
	shmSize  = "64m"
)

// stageDir is where the new root is assembled before the pivot. Covering
// it in the sandbox's mount namespace changes nothing on the host, and
// every source is opened before it is covered.
const stageDir = "/tmp"

// baseDirs are the system directories every interpreter needs.
var baseDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// baseEtc are the files of /etc that programs read at run time: name
// service, dynamic linker, time zone, certificates, MIME types. Not there:
// shadow and gshadow, ssh, sudoers, security, and machine-id (an identifier
// of the host that nothing a server does needs). passwd and group are
// filtered (idFiles).
var baseEtc = []string{
	"alternatives", "ca-certificates", "ca-certificates.conf", "crypto-policies",
	"gai.conf", "host.conf", "hosts", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
	"localtime", "mime.types", "nsswitch.conf", "os-release", "pki", "protocols",
	"resolv.conf", "services", "ssl", "timezone",
}

// baseHide are private keys that baseEtc would otherwise show to root.
var baseHide = []string{"/etc/ssl/private", "/etc/pki/tls/private"}

// Paths of /proc made read-only or masked, as runc does: the kernel's
// knobs, and files that leak kernel addresses or other users' activity.
var (
	procReadOnly = []string{"bus", "fs", "irq", "sys", "sysrq-trigger"}
	procMasked   = []string{"acpi", "asound", "kcore", "keys", "latency_stats", "sched_debug", "scsi", "timer_list", "timer_stats"}
)

// devNodes are the device files in the sandbox's /dev, bound from the host.
var devNodes = []string{"null", "zero", "full", "random", "urandom"}

// mountKind says what a mount entry puts at its target.
type mountKind int

const (
	bindRO  mountKind = iota // a host file or directory, read-only
	bindRW                   // a host file or directory, writable
	tmpfsRW                  // an empty private tmpfs, writable
	hidden                   // an empty read-only directory or file
	symlink                  // a symbolic link, in the sandbox's own file systems only
	content                  // a read-only file with given contents, likewise
	devFS                    // the minimal /dev
	procFS                   // the sandbox's /proc
)

// mountEntry is one item of the view.
type mountEntry struct {
	target string // absolute path inside the view
	kind   mountKind
	source string // host path (binds) or link text (symlinks)
	dir    bool   // the target is a directory
	mode   string // tmpfs mode
	size   string // tmpfs size
	data   []byte // content
	srcFD  int    // O_PATH descriptor of source, for binds, once opened
}

func (m *mountEntry) isBind() bool { return m.kind == bindRO || m.kind == bindRW }

// ownsChildren reports whether the sandbox may create files under m.
func (m *mountEntry) ownsChildren() bool {
	return m.kind == tmpfsRW || m.kind == devFS
}

// view is the plan of the sandbox's file system.
type view struct {
	mounts []*mountEntry // in the order they are made
	exe    string        // the server's executable, as the view names it
	dir    string        // the server's working directory
	read   []string      // Landlock: read and execute
	write  []string      // Landlock: read, write and execute
}

// root returns the entry mounted on "/", or nil when "/" is a tmpfs.
func (v *view) root() *mountEntry {
	for _, m := range v.mounts {
		if m.target == "/" {
			return m
		}
	}
	return nil
}

// ids are the caller's user and group.
type ids struct{ uid, gid int }

// planView works out the view for cfg from the host file system. cwd is
// the caller's working directory.
func planView(cfg Config, id ids, cwd string) (*view, error) {
	p := &planner{byTarget: make(map[string]*mountEntry)}
	if err := p.base(id); err != nil {
		return nil, err
	}
	exe, err := p.executable(cfg.Argv[0], cfg.Home)
	if err != nil {
		return nil, err
	}
	for _, list := range []struct {
		paths []string
		kind  mountKind
	}{{cfg.Read, bindRO}, {cfg.Write, bindRW}} {
		for _, path := range list.paths {
			if err := p.hostPath(path, list.kind); err != nil {
				return nil, err
			}
		}
	}
	mounts := p.ordered()
	if err := p.home(cfg.Home, mounts); err != nil {
		return nil, err
	}
	mounts = p.ordered()
	hides, err := planHides(append(slices.Clone(baseHide), cfg.Hide...), mounts)
	if err != nil {
		return nil, err
	}
	v := &view{mounts: append(mounts, hides...), exe: exe}
	v.dir = workDir(cfg, cwd, mounts)
	v.read, v.write = landlockPaths(mounts)
	return v, nil
}

// planner collects entries by target; a later entry replaces an earlier
// one at the same target, so the profile's lists override the base set,
// and Write overrides Read.
type planner struct {
	byTarget map[string]*mountEntry
}

func (p *planner) add(m *mountEntry) {
	m.srcFD = -1
	p.byTarget[m.target] = m
}

// base adds the system directories, /etc, /tmp, /dev and /proc.
func (p *planner) base(id ids) error {
	for _, d := range baseDirs {
		fi, err := os.Lstat(d)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return fmt.Errorf("system directory: %w", err)
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(d)
			if err != nil {
				return fmt.Errorf("system directory: %w", err)
			}
			p.add(&mountEntry{target: d, kind: symlink, source: link})
		case fi.IsDir():
			p.add(&mountEntry{target: d, kind: bindRO, source: d, dir: true})
		}
	}
	for _, name := range baseEtc {
		target := "/etc/" + name
		src, fi, err := resolve(target)
		if err != nil {
			return fmt.Errorf("system file: %w", err)
		}
		if fi != nil {
			p.add(&mountEntry{target: target, kind: bindRO, source: src, dir: fi.IsDir()})
		}
	}
	if err := p.idFiles(id); err != nil {
		return err
	}
	p.add(&mountEntry{target: "/tmp", kind: tmpfsRW, dir: true, mode: "1777", size: tmpSize})
	p.add(&mountEntry{target: "/dev", kind: devFS, dir: true})
	p.add(&mountEntry{target: "/proc", kind: procFS, dir: true})
	return nil
}

// idFiles adds /etc/passwd and /etc/group reduced to root, the caller and
// nobody: programs can name the user, and learn nothing of the host's
// other accounts.
func (p *planner) idFiles(id ids) error {
	files := []struct {
		name string
		keep []int
	}{
		{"passwd", []int{0, id.uid, 65534}},
		{"group", []int{0, id.gid, 65534}},
	}
	for _, f := range files {
		data, err := os.ReadFile("/etc/" + f.name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("system file: %w", err)
		}
		p.add(&mountEntry{target: "/etc/" + f.name, kind: content, data: filterIDFile(data, f.keep)})
	}
	return nil
}

// filterIDFile keeps the lines of a passwd or group file whose third
// field (the uid or gid) is in keep.
func filterIDFile(data []byte, keep []int) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 3 {
			continue
		}
		if n, err := strconv.Atoi(fields[2]); err == nil && slices.Contains(keep, n) {
			out.WriteString(sc.Text())
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// executable makes the server's executable visible and returns the path
// to run. The directory part of argv0 is resolved, the last component is
// kept, so that the program sees the name it was given. The executable's
// directory is shown (for the files next to it), unless that would show
// the whole home directory, /tmp or the root: then only the file.
func (p *planner) executable(argv0, home string) (string, error) {
	dir, err := filepath.EvalSymlinks(filepath.Dir(argv0))
	if err != nil {
		return argv0, nil // nothing to show; running it reports the error
	}
	exe := filepath.Join(dir, filepath.Base(argv0))
	real, fi, err := resolve(exe)
	if err != nil || fi == nil {
		return exe, nil
	}
	if real != exe {
		p.showExecutable(exe, dir, home)
	}
	p.showExecutable(real, filepath.Dir(real), home)
	return exe, nil
}

// showExecutable shows file (possibly a symbolic link) or its directory.
func (p *planner) showExecutable(file, dir, home string) {
	if dir == "/opt" || strings.HasPrefix(dir, "/opt/") {
		p.add(&mountEntry{target: "/opt", kind: bindRO, source: "/opt", dir: true})
		return
	}
	if dir == "/" || dir == "/tmp" || (home != "" && within(home, dir)) {
		if real, fi, err := resolve(file); err == nil && fi != nil {
			p.add(&mountEntry{target: real, kind: bindRO, source: real})
		}
		return
	}
	p.add(&mountEntry{target: dir, kind: bindRO, source: dir, dir: true})
}

// hostPath adds a Read or Write path, resolved; a missing one is skipped.
// When the path itself goes through a symbolic link, the first link on it
// is recreated (where the sandbox owns the directory), so that the name
// the profile used still works.
func (p *planner) hostPath(path string, kind mountKind) error {
	path = filepath.Clean(path)
	real, fi, err := resolve(path)
	if err != nil {
		return fmt.Errorf("path %q: %w", path, err)
	}
	if fi == nil {
		return nil
	}
	p.add(&mountEntry{target: real, kind: kind, source: real, dir: fi.IsDir()})
	if real != path {
		if link, ok := firstLink(path); ok {
			if to, err := filepath.EvalSymlinks(link); err == nil {
				p.add(&mountEntry{target: link, kind: symlink, source: to})
			}
		}
	}
	return nil
}

// firstLink returns the first prefix of path that is a symbolic link.
func firstLink(path string) (string, bool) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := range parts {
		prefix := "/" + strings.Join(parts[:i+1], "/")
		if fi, err := os.Lstat(prefix); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return prefix, true
		}
	}
	return "", false
}

// home adds a private writable home directory unless Home is visible
// through a host mount already.
func (p *planner) home(home string, mounts []*mountEntry) error {
	if home == "" {
		return nil
	}
	home = filepath.Clean(home)
	real, _, err := resolve(home)
	if err != nil {
		return fmt.Errorf("home %q: %w", home, err)
	}
	if real == "" {
		real = home
	}
	if real == "/" {
		return nil
	}
	if m := enclosing(mounts, real); m != nil && m.isBind() {
		return nil
	}
	p.add(&mountEntry{target: real, kind: tmpfsRW, dir: true, mode: "0700", size: homeSize})
	if real != home {
		if link, ok := firstLink(home); ok {
			if to, err := filepath.EvalSymlinks(link); err == nil {
				p.add(&mountEntry{target: link, kind: symlink, source: to})
			}
		}
	}
	return nil
}

// ordered returns the entries parents first, dropping those that add
// nothing (a read-only bind of a path inside another read-only bind of the
// same host path, and likewise for writable ones; a base file of /etc
// inside a host directory) and links and files that would have to be
// created in a host directory.
func (p *planner) ordered() []*mountEntry {
	all := make([]*mountEntry, 0, len(p.byTarget))
	for _, m := range p.byTarget {
		all = append(all, m)
	}
	slices.SortFunc(all, func(a, b *mountEntry) int {
		if d := depth(a.target) - depth(b.target); d != 0 {
			return d
		}
		return strings.Compare(a.target, b.target)
	})
	var out []*mountEntry
	for _, m := range all {
		parent := enclosing(out, filepath.Dir(m.target))
		if m.target == "/" {
			parent = nil
		}
		switch {
		case m.isBind() && parent != nil && parent.kind == m.kind && identity(parent) && identity(m):
			continue
		case m.isBind() && !identity(m) && parent != nil && parent.isBind():
			// A base file of /etc where the host's /etc is shown anyway.
			continue
		case (m.kind == symlink || m.kind == content) && parent != nil && !parent.ownsChildren():
			continue
		}
		out = append(out, m)
	}
	return out
}

// planHides returns the hide entries for the host paths hide, for every
// place where mounts make them visible, parents first.
func planHides(hide []string, mounts []*mountEntry) ([]*mountEntry, error) {
	var out []*mountEntry
	seen := make(map[string]bool)
	for _, h := range hide {
		real, fi, err := resolve(filepath.Clean(h))
		if errors.Is(err, unix.EACCES) {
			continue // what the user cannot reach, the sandbox cannot show
		}
		if err != nil {
			return nil, fmt.Errorf("hide path %q: %w", h, err)
		}
		if fi == nil {
			continue
		}
		for _, m := range mounts {
			if !m.isBind() || !within(real, m.source) {
				continue
			}
			at := filepath.Join(m.target, strings.TrimPrefix(real, m.source))
			if enclosing(mounts, at) != m || seen[at] {
				continue
			}
			seen[at] = true
			out = append(out, &mountEntry{target: at, kind: hidden, dir: fi.IsDir(), srcFD: -1})
		}
	}
	slices.SortFunc(out, func(a, b *mountEntry) int { return depth(a.target) - depth(b.target) })
	var kept []*mountEntry
	for _, m := range out {
		if enclosing(kept, m.target) == nil {
			kept = append(kept, m)
		}
	}
	return kept, nil
}

// workDir picks the server's working directory: the caller's, when the
// view shows it (relative paths among the arguments then mean the same
// thing); else the first Write directory; else the first argument that is
// a visible directory; else /tmp.
func workDir(cfg Config, cwd string, mounts []*mountEntry) string {
	visibleDir := func(p string) bool {
		if !filepath.IsAbs(p) {
			return false
		}
		real, fi, err := resolve(filepath.Clean(p))
		if err != nil || fi == nil || !fi.IsDir() {
			return false
		}
		m := enclosing(mounts, real)
		return m != nil && m.isBind() && identity(m)
	}
	candidates := []string{cwd}
	candidates = append(candidates, cfg.Write...)
	candidates = append(candidates, cfg.Argv[1:]...)
	for _, c := range candidates {
		if visibleDir(c) {
			real, _, _ := resolve(filepath.Clean(c))
			return real
		}
	}
	return "/tmp"
}

// landlockPaths returns the paths Landlock lets the server read and
// execute, and those it also lets it write: exactly the view's mounts.
func landlockPaths(mounts []*mountEntry) (read, write []string) {
	for _, m := range mounts {
		switch m.kind {
		case bindRO, content:
			read = append(read, m.target)
		case procFS:
			read = append(read, m.target)
		case devFS:
			// The device nodes get their own rules (restrictLandlock).
			read = append(read, m.target)
			write = append(write, filepath.Join(m.target, "shm"))
		case bindRW, tmpfsRW:
			write = append(write, m.target)
		}
	}
	return read, write
}

// resolve returns path with symbolic links resolved and what it names, or
// a nil FileInfo when it does not exist.
func resolve(path string) (string, fs.FileInfo, error) {
	real, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", nil, err
	}
	return real, fi, nil
}

// enclosing returns the last of mounts whose target is path or contains it.
func enclosing(mounts []*mountEntry, path string) *mountEntry {
	for i := len(mounts) - 1; i >= 0; i-- {
		if within(path, mounts[i].target) {
			return mounts[i]
		}
	}
	return nil
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	return path == dir || dir == "/" || strings.HasPrefix(path, dir+"/")
}

func identity(m *mountEntry) bool { return m.source == m.target }

func depth(path string) int {
	if path == "/" {
		return 0
	}
	return strings.Count(path, "/")
}

// Building the view.

// Mount attributes.
const (
	attrRO   = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV
	attrRW   = unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV
	attrDev  = unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC
	attrProc = unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC
)

// builder assembles the view.
type builder struct {
	root   int             // the new root, attached at stageDir
	owned  map[uint64]bool // devices of the sandbox's own file systems
	nodes  map[string]int  // O_PATH descriptors of the host's device nodes
	sealed []int           // mounts to make read-only once all are made
}

// buildView makes v the process's root file system. It must run in a
// new mount namespace, with CAP_SYS_ADMIN there.
func buildView(v *view) error {
	// Nothing below may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	b := &builder{root: -1, owned: make(map[uint64]bool), nodes: make(map[string]int)}
	defer b.close(v)
	if err := b.openSources(v); err != nil {
		return err
	}
	if err := b.makeRoot(v.root()); err != nil {
		return err
	}
	for _, m := range v.mounts {
		if m.target == "/" {
			continue
		}
		if err := b.mount(m); err != nil {
			return fmt.Errorf("%s: %w", m.target, err)
		}
	}
	if v.root() == nil {
		b.sealed = append(b.sealed, b.root)
	}
	for _, fd := range b.sealed {
		if err := setAttr(fd, unix.MOUNT_ATTR_RDONLY, false); err != nil {
			return fmt.Errorf("making the sandbox's own directories read-only: %w", err)
		}
	}
	return b.pivot()
}

// openSources opens every host path the view shows, before stageDir is
// covered.
func (b *builder) openSources(v *view) error {
	for _, m := range v.mounts {
		if !m.isBind() {
			continue
		}
		fd, err := unix.Open(m.source, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening %s: %w", m.source, err)
		}
		m.srcFD = fd
	}
	for _, name := range devNodes {
		fd, err := unix.Open("/dev/"+name, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening /dev/%s: %w", name, err)
		}
		b.nodes[name] = fd
	}
	return nil
}

func (b *builder) close(v *view) {
	for _, m := range v.mounts {
		if m.srcFD >= 0 {
			unix.Close(m.srcFD)
			m.srcFD = -1
		}
	}
	for _, fd := range b.nodes {
		unix.Close(fd)
	}
	for _, fd := range b.sealed {
		if fd != b.root {
			unix.Close(fd)
		}
	}
	if b.root >= 0 {
		unix.Close(b.root)
	}
}

// makeRoot attaches the new root at stageDir: a tmpfs, or the host
// directory bound at "/" when the profile shows all of it.
func (b *builder) makeRoot(bind *mountEntry) error {
	var fd int
	var err error
	if bind != nil {
		fd, err = cloneTree(bind.srcFD, bindAttr(bind.kind))
	} else {
		fd, err = newTmpfs("0755", rootSize, attrRW)
	}
	if err != nil {
		return fmt.Errorf("new root: %w", err)
	}
	b.root = fd
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, stageDir, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("attaching new root at %s: %w", stageDir, err)
	}
	if bind == nil {
		return b.own(fd)
	}
	return nil
}

// mount makes one entry of the view.
func (b *builder) mount(m *mountEntry) error {
	switch m.kind {
	case bindRO, bindRW:
		tree, err := cloneTree(m.srcFD, bindAttr(m.kind))
		if err != nil {
			return err
		}
		defer unix.Close(tree)
		return b.attach(tree, m.target, m.dir)
	case tmpfsRW:
		fd, err := newTmpfs(m.mode, m.size, attrRW)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := b.attach(fd, m.target, true); err != nil {
			return err
		}
		return b.own(fd)
	case hidden:
		return b.hide(m)
	case symlink:
		return b.create(m.target, func(dir int, name string) error {
			return unix.Symlinkat(m.source, dir, name)
		})
	case content:
		return b.create(m.target, func(dir int, name string) error {
			return writeFileAt(dir, name, m.data)
		})
	case devFS:
		return b.dev(m.target)
	case procFS:
		return b.proc(m.target)
	}
	return fmt.Errorf("unknown mount kind %d", m.kind)
}

func bindAttr(k mountKind) uint64 {
	if k == bindRW {
		return attrRW
	}
	return attrRO
}

// hide covers m.target with an empty read-only directory or, for a file,
// the null device, read-only: reads find nothing, writes go nowhere.
func (b *builder) hide(m *mountEntry) error {
	var fd int
	var err error
	if m.dir {
		fd, err = newTmpfs("0755", hideSize, attrRO|unix.MOUNT_ATTR_NOEXEC)
	} else {
		fd, err = cloneTree(b.nodes["null"], unix.MOUNT_ATTR_RDONLY|attrDev)
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return b.attach(fd, m.target, m.dir)
}

// dev mounts the minimal /dev: the harmless device nodes, the usual links
// into /proc/self/fd, and a private /dev/shm. It is made read-only last.
func (b *builder) dev(target string) error {
	fd, err := newTmpfs("0755", devSize, attrDev)
	if err != nil {
		return err
	}
	b.sealed = append(b.sealed, fd)
	if err := b.attach(fd, target, true); err != nil {
		return err
	}
	if err := b.own(fd); err != nil {
		return err
	}
	for _, name := range devNodes {
		if err := writeFileAt(fd, name, nil); err != nil {
			return err
		}
		tree, err := cloneTree(b.nodes[name], attrDev)
		if err != nil {
			return err
		}
		if err := attachAt(tree, fd, name, false); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	links := [][2]string{{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}}
	for _, l := range links {
		if err := unix.Symlinkat(l[1], fd, l[0]); err != nil {
			return fmt.Errorf("%s: %w", l[0], err)
		}
	}
	if err := unix.Mkdirat(fd, "shm", 0o755); err != nil {
		return fmt.Errorf("shm: %w", err)
	}
	shm, err := newTmpfs("1777", shmSize, attrProc)
	if err != nil {
		return err
	}
	if err := attachAt(shm, fd, "shm", true); err != nil {
		return fmt.Errorf("shm: %w", err)
	}
	return nil
}

// proc mounts the PID namespace's own /proc, with the kernel's knobs
// read-only and the files that leak host information masked.
func (b *builder) proc(target string) error {
	fsfd, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("proc: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return fmt.Errorf("proc: %w", err)
	}
	fd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attrProc)
	if err != nil {
		return fmt.Errorf("proc: %w", err)
	}
	defer unix.Close(fd)
	if err := b.attach(fd, target, true); err != nil {
		return err
	}
	for _, name := range procReadOnly {
		at, err := unix.Openat(fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		tree, err := cloneTree(at, unix.MOUNT_ATTR_RDONLY|attrProc)
		if err == nil {
			err = moveMount(tree, at)
			unix.Close(tree)
		}
		unix.Close(at)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	for _, name := range procMasked {
		var st unix.Stat_t
		err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := b.hide(&mountEntry{target: filepath.Join(target, name), dir: st.Mode&unix.S_IFMT == unix.S_IFDIR}); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// pivot makes the new root the process's root and lets go of the host's.
func (b *builder) pivot() error {
	if err := unix.Fchdir(b.root); err != nil {
		return fmt.Errorf("entering new root: %w", err)
	}
	// pivot_root(".", ".") stacks the old root on the new one; unmounting
	// "." then removes it without needing a directory for it.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// attach moves the detached mount fd onto target in the new root.
func (b *builder) attach(fd int, target string, dir bool) error {
	at, err := b.openTarget(target, dir)
	if err != nil {
		return err
	}
	defer unix.Close(at)
	return moveMount(fd, at)
}

// attachAt moves the detached mount tree onto name in the directory dir,
// and closes tree.
func attachAt(tree, dir int, name string, isDir bool) error {
	defer unix.Close(tree)
	flags := unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC
	if isDir {
		flags |= unix.O_DIRECTORY
	}
	at, err := unix.Openat(dir, name, flags, 0)
	if err != nil {
		return err
	}
	defer unix.Close(at)
	return moveMount(tree, at)
}

// openTarget opens path in the new root as an O_PATH descriptor, walking
// one component at a time and refusing symbolic links. A missing
// component is created, as a directory (or, last, an empty file when dir
// is false), only in the sandbox's own file systems: never on the host.
func (b *builder) openTarget(path string, dir bool) (int, error) {
	fd, err := unix.Openat(b.root, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if path == "/" {
		parts = nil
	}
	for i, name := range parts {
		wantDir := dir || i < len(parts)-1
		next, err := b.step(fd, name, wantDir)
		unix.Close(fd)
		if err != nil {
			return -1, fmt.Errorf("mount point %s: %w", path, err)
		}
		fd = next
	}
	return fd, nil
}

// step opens name in the directory parent, creating it if the sandbox
// owns parent.
func (b *builder) step(parent int, name string, dir bool) (int, error) {
	flags := unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC
	if dir {
		flags |= unix.O_DIRECTORY
	}
	fd, err := unix.Openat(parent, name, flags, 0)
	if errors.Is(err, unix.ENOENT) {
		if !b.owns(parent) {
			return -1, fmt.Errorf("%s: missing outside the sandbox's own file systems", name)
		}
		if dir {
			err = unix.Mkdirat(parent, name, 0o755)
		} else {
			err = writeFileAt(parent, name, nil)
		}
		if err != nil {
			return -1, err
		}
		fd, err = unix.Openat(parent, name, flags, 0)
	}
	if err != nil {
		return -1, err
	}
	if !dir {
		if err := notLink(fd); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	return fd, nil
}

// create makes a file or link at path through mk, when its directory
// belongs to the sandbox; elsewhere it leaves the host untouched.
func (b *builder) create(path string, mk func(dir int, name string) error) error {
	dir, err := b.openTarget(filepath.Dir(path), true)
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	if !b.owns(dir) {
		return nil
	}
	return mk(dir, filepath.Base(path))
}

// own records fd's file system as the sandbox's own.
func (b *builder) own(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	b.owned[st.Dev] = true
	return nil
}

func (b *builder) owns(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && b.owned[st.Dev]
}

func notLink(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return errors.New("is a symbolic link")
	}
	return nil
}

// writeFileAt creates name in dir with data; it must not exist.
func writeFileAt(dir int, name string, data []byte) error {
	fd, err := unix.Openat(dir, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// newTmpfs returns a new detached tmpfs mount.
func newTmpfs(mode, size string, attr uint64) (int, error) {
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("tmpfs: %w", err)
	}
	defer unix.Close(fsfd)
	for _, kv := range [][2]string{{"mode", mode}, {"size", size}} {
		if err := unix.FsconfigSetString(fsfd, kv[0], kv[1]); err != nil {
			return -1, fmt.Errorf("tmpfs %s=%s: %w", kv[0], kv[1], err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("tmpfs: %w", err)
	}
	fd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, int(attr))
	if err != nil {
		return -1, fmt.Errorf("tmpfs: %w", err)
	}
	return fd, nil
}

// cloneTree returns a detached copy of the mount tree at src with attr
// set on every mount in it.
func cloneTree(src int, attr uint64) (int, error) {
	fd, err := unix.OpenTree(src, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH|unix.AT_RECURSIVE)
	if err != nil {
		return -1, fmt.Errorf("open_tree: %w", err)
	}
	if err := setAttr(fd, attr, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// setAttr sets attr on the mount fd, and on the mounts under it when
// recursive.
func setAttr(fd int, attr uint64, recursive bool) error {
	flags := uint(unix.AT_EMPTY_PATH)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	if err := unix.MountSetattr(fd, "", flags, &unix.MountAttr{Attr_set: attr}); err != nil {
		return fmt.Errorf("mount_setattr: %w", err)
	}
	return nil
}

func moveMount(from, to int) error {
	if err := unix.MoveMount(from, "", to, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}
