// Command goclient drives go-sql-driver/mysql through the bastion and prints key=value
// lines that tests/integration/mysql/test_go.py asserts on.
//
// Usage: goclient DSN ROW_ID. The DSN must use TLS and server-side prepared statements
// (tls=skip-verify&interpolateParams=false); ROW_ID is the lab.jdbc_blobs row this run
// may write. Any error ends the run with exit code 1.
package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
)

func main() {
	if len(os.Args) != 3 {
		fail(errors.New("usage: goclient DSN ROW_ID"))
	}
	rowID, err := strconv.Atoi(os.Args[2])
	check(err)
	db, err := sql.Open("mysql", os.Args[1])
	check(err)
	defer db.Close()
	db.SetMaxOpenConns(2)
	check(db.Ping())
	textProtocol(db)
	preparedNulls(db)
	multiRow(db)
	blobs(db, rowID)
	transaction(db, rowID)
	errorsKeepConnection(db)
	out("done", "yes")
}

func textProtocol(db *sql.DB) {
	rows, err := db.Query("SELECT name FROM shop.customers ORDER BY id")
	check(err)
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		check(rows.Scan(&name))
		names = append(names, name)
	}
	check(rows.Err())
	out("text.names", strings.Join(names, "|"))
}

func preparedNulls(db *sql.DB) {
	stmt, err := db.Prepare("SELECT id, a, s, d, n, f, b, t FROM jdbc_types WHERE id >= ? ORDER BY id")
	check(err)
	defer stmt.Close()
	for round := 0; round < 2; round++ { // the second EXECUTE reuses the statement
		rows, err := stmt.Query(1)
		check(err)
		cols, err := rows.Columns()
		check(err)
		var lines []string
		for rows.Next() {
			values := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range values {
				ptrs[i] = &values[i]
			}
			check(rows.Scan(ptrs...))
			cells := make([]string, len(cols))
			for i, v := range values {
				switch x := v.(type) {
				case nil:
					cells[i] = "NULL"
				case []byte:
					cells[i] = string(x)
				default:
					cells[i] = fmt.Sprint(x)
				}
			}
			lines = append(lines, strings.Join(cells, ","))
		}
		check(rows.Err())
		rows.Close()
		out(fmt.Sprintf("prepared.rows.%d", round), strings.Join(lines, ";"))
	}
}

func multiRow(db *sql.DB) {
	rows, err := db.Query("SELECT seq, CONCAT('row-', seq) FROM seq_1_to_50000 WHERE seq > ? ORDER BY seq", 10)
	check(err)
	defer rows.Close()
	var count, sum int64
	var last string
	for rows.Next() {
		var n int64
		check(rows.Scan(&n, &last))
		count++
		sum += n
	}
	check(rows.Err())
	out("multi.count", strconv.FormatInt(count, 10))
	out("multi.sum", strconv.FormatInt(sum, 10))
	out("multi.last", last)
}

func blobs(db *sql.DB, rowID int) {
	data := make([]byte, 3*1024*1024+17)
	rand.New(rand.NewSource(int64(rowID))).Read(data)
	out("blob.expected", digest(data))
	// Larger than maxAllowedPacket/(params+1) in the DSN: sent with COM_STMT_SEND_LONG_DATA.
	res, err := db.Exec("REPLACE INTO jdbc_blobs (id, data) VALUES (?, ?)", rowID, data)
	check(err)
	n, err := res.RowsAffected()
	check(err)
	out("blob.updated", strconv.FormatInt(n, 10))
	var back []byte
	var length int64
	check(db.QueryRow("SELECT data, LENGTH(data) FROM jdbc_blobs WHERE id = ?", rowID).Scan(&back, &length))
	out("blob.back", fmt.Sprintf("%d:%s", length, digest(back)))
}

func transaction(db *sql.DB, rowID int) {
	count := func(tx *sql.Tx) string {
		var n int
		check(tx.QueryRow("SELECT COUNT(*) FROM jdbc_tx WHERE id = ?", rowID).Scan(&n))
		return strconv.Itoa(n)
	}
	tx, err := db.Begin()
	check(err)
	_, err = tx.Exec("INSERT INTO jdbc_tx (id, v) VALUES (?, ?)", rowID, "rolled back")
	check(err)
	check(tx.Rollback())
	tx, err = db.Begin()
	check(err)
	out("tx.after_rollback", count(tx))
	_, err = tx.Exec("INSERT INTO jdbc_tx (id, v) VALUES (?, ?)", rowID, "committed")
	check(err)
	check(tx.Commit())
	tx, err = db.Begin()
	check(err)
	out("tx.after_commit", count(tx))
	check(tx.Commit())
}

func errorsKeepConnection(db *sql.DB) {
	_, err := db.Query("SELECT * FROM no_such_table WHERE id = ?", 1)
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		out("error.code", strconv.Itoa(int(myErr.Number)))
	} else {
		out("error.code", fmt.Sprint(err))
	}
	var s string
	check(db.QueryRow("SELECT 'still usable'").Scan(&s))
	out("error.after", s)
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func out(key, value string) {
	fmt.Printf("%s=%s\n", key, value)
}

func check(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "goclient:", err)
	os.Exit(1)
}
