package sqlguard_test

import (
	"errors"
	"fmt"

	"github.com/mcpwarden/mcpwarden/sqlguard"
)

func ExampleChecker_Check() {
	c, err := sqlguard.New(sqlguard.Rule{Dialect: sqlguard.Postgres})
	if err != nil {
		panic(err)
	}
	for _, q := range []string{
		"SELECT name FROM users WHERE id = 7",
		"SELECT 1; DROP TABLE users",
		"WITH gone AS (DELETE FROM users RETURNING *) SELECT count(*) FROM gone",
		"SELECT pg_catalog.pg_read_file('/etc/passwd')",
	} {
		err := c.Check(q)
		fmt.Println(err == nil, errors.Is(err, sqlguard.ErrRefused), err)
	}
	// Output:
	// true false <nil>
	// false true query refused: the query holds 2 statements; only one is allowed
	// false true query refused: it has a DELETE statement nested in it
	// false true query refused: it calls the function pg_catalog.pg_read_file, which is denied (pg_read_*)
}
