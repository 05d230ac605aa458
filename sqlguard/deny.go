package sqlguard

import (
	"fmt"
	"strings"
	"unicode"
)

// postgresDeny lists PostgreSQL functions (built in or from common
// extensions) that a read-only query must not call, because they read or
// write the server's files, sleep or lock, signal other backends, change
// settings, sequences or replication state, or run SQL given as a string
// (which sqlguard never sees). A trailing '*' matches a name prefix.
var postgresDeny = []string{
	// Files of the server.
	"pg_read_*", "pg_ls_*", "pg_stat_file", "pg_current_logfile",
	"pg_file_*", "pg_logdir_ls",
	// Large objects: import and export server files, write objects.
	"lo_*", "loread", "lowrite",
	// Time and locks.
	"pg_sleep*", "pg_advisory_*", "pg_try_advisory_*",
	// Other backends and the server process.
	"pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf",
	"pg_rotate_logfile*", "pg_promote", "pg_log_*",
	// Settings, sequences, transactions, notifications.
	"set_config", "nextval", "setval", "txid_current", "pg_current_xact_id",
	"pg_notify",
	// WAL, backups, replication.
	"pg_switch_wal", "pg_switch_xlog", "pg_wal_replay_*", "pg_xlog_replay_*",
	"pg_backup_*", "pg_start_backup", "pg_stop_backup",
	"pg_create_*", "pg_drop_*", "pg_copy_*", "pg_replication_*",
	"pg_logical_*", "pg_sync_replication_slots",
	// Statistics and catalog writes.
	"pg_stat_reset*", "pg_stat_statements_reset", "pg_stat_force_next_flush",
	"pg_restore_*", "pg_clear_*", "pg_import_system_collations", "pg_nextoid",
	"binary_upgrade_*", "brin_summarize_*", "brin_desummarize_range",
	"gin_clean_pending_list", "pg_truncate_visibility_map",
	// SQL given as text, run where sqlguard cannot see it.
	"query_to_xml*", "cursor_to_xml*",
	"table_to_xml*", "schema_to_xml*", "database_to_xml*",
	"ts_stat", "ts_rewrite", "crosstab*", "connectby",
	"pg_background_*", "query_export_to_s3", "table_import_from_s3",
	// Other servers.
	"dblink*", "http", "http_*",
}

// sqliteDeny lists SQLite functions, from the core, the sqlite3 shell and
// common extensions, that read or write files, load code, or run SQL
// given as a string.
var sqliteDeny = []string{
	"load_extension", "readfile", "writefile", "edit", "fsdir", "zipfile",
	"fts3_tokenizer", "sha3_query", "eval", "define", "undefine",
	"fileio_*", "lines_read", "sqlite_attach", "sqlite_detach",
}

// denyList matches function names against exact names and prefixes, all
// lower case.
type denyList struct {
	exact    map[string]bool
	prefixes []string
}

func compileDeny(builtin, extra []string) (denyList, error) {
	d := denyList{exact: make(map[string]bool)}
	for i, name := range extra {
		if err := validDenyName(name); err != nil {
			return denyList{}, fmt.Errorf("deny function %d %q: %w", i+1, name, err)
		}
	}
	for _, name := range append(append([]string(nil), builtin...), extra...) {
		name = strings.ToLower(name)
		if p, ok := strings.CutSuffix(name, "*"); ok {
			d.prefixes = append(d.prefixes, p)
		} else {
			d.exact[name] = true
		}
	}
	return d, nil
}

func validDenyName(name string) error {
	body := strings.TrimSuffix(name, "*")
	switch {
	case body == "":
		return fmt.Errorf("no function name before the '*'")
	case strings.Contains(body, "*"):
		return fmt.Errorf("'*' is allowed only at the end")
	case strings.Contains(body, "."):
		return fmt.Errorf("give the name without a schema; it matches in every schema")
	}
	for _, r := range body {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("contains a space, control or format character")
		}
	}
	return nil
}

// match returns the deny entry that name matches, or "".
func (d denyList) match(name string) string {
	name = strings.ToLower(name)
	if d.exact[name] {
		return name
	}
	for _, p := range d.prefixes {
		if strings.HasPrefix(name, p) {
			return p + "*"
		}
	}
	return ""
}
