// Writes crates/bolt/tests/data/many.db with the real bbolt (go.etcd.io/bbolt, Debian's
// golang-github-coreos-bbolt-dev 1.3.6): see ../make.sh. What it holds is
// asserted by tests/bolt/reader.rs.
package main

import (
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

func main() {
	path := os.Args[1]
	db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: 1024})
	if err != nil {
		panic(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		// 5000 keys on 1 KiB pages: many leaf pages under two levels of branch pages.
		big, err := tx.CreateBucket([]byte("big"))
		if err != nil {
			return err
		}
		big.FillPercent = 1.0
		for i := 0; i < 5000; i++ {
			if err := big.Put([]byte(fmt.Sprintf("key-%05d", i)), []byte(fmt.Sprintf("v%d", i*7))); err != nil {
				return err
			}
		}
		// Nested buckets: an inline one, one with its own pages, a value on overflow pages.
		nest, err := tx.CreateBucket([]byte("nest"))
		if err != nil {
			return err
		}
		small, err := nest.CreateBucket([]byte("small"))
		if err != nil {
			return err
		}
		if err := small.Put([]byte("a"), []byte("1")); err != nil {
			return err
		}
		if err := small.Put([]byte("b"), []byte{0, 0xff}); err != nil {
			return err
		}
		deeper, err := small.CreateBucket([]byte("deeper"))
		if err != nil {
			return err
		}
		if err := deeper.Put([]byte("leaf"), []byte("bottom")); err != nil {
			return err
		}
		if _, err := nest.CreateBucket([]byte("empty")); err != nil {
			return err
		}
		large := make([]byte, 5000)
		for i := range large {
			large[i] = byte(i % 251)
		}
		if err := nest.Put([]byte("large"), large); err != nil {
			return err
		}
		paged, err := nest.CreateBucket([]byte("paged"))
		if err != nil {
			return err
		}
		for i := 0; i < 100; i++ {
			if err := paged.Put([]byte(fmt.Sprintf("p%03d", i)), []byte("0123456789abcdef0123456789abcdef")); err != nil {
				return err
			}
		}
		for i := 0; i < 3; i++ {
			if _, err := paged.NextSequence(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	if err := db.Close(); err != nil {
		panic(err)
	}
}
