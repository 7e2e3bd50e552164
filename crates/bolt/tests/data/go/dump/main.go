// Lists every bucket of a bbolt file with Go's bbolt (Debian's golang-github-coreos-bbolt-dev
// 1.3.6), in the format of forensic_bolt::dump: one line per key, two spaces per nesting level,
// "key/" for a sub-bucket, "key = value" for a value, bytes outside printable ASCII and '\' as
// \xNN. See ../make.sh.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
)

func esc(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, "\\x%02x", c)
		}
	}
	return s.String()
}

func dump(w *bufio.Writer, b *bolt.Bucket, depth int) error {
	return b.ForEach(func(k, v []byte) error {
		ind := strings.Repeat("  ", depth)
		if v == nil {
			fmt.Fprintf(w, "%s%s/\n", ind, esc(k))
			return dump(w, b.Bucket(k), depth+1)
		}
		fmt.Fprintf(w, "%s%s = %s\n", ind, esc(k), esc(v))
		return nil
	})
}

func main() {
	db, err := bolt.Open(os.Args[1], 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		panic(err)
	}
	w := bufio.NewWriter(os.Stdout)
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			fmt.Fprintf(w, "%s/\n", esc(name))
			return dump(w, b, 1)
		})
	})
	if err != nil {
		panic(err)
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
}
