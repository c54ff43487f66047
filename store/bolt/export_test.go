package bolt

import bbolt "go.etcd.io/bbolt"

// Crash stops db the way a killed process would: the write transaction is abandoned
// unflushed and the files are closed, so that what survives is what reached the log and
// the B+tree file.
func Crash(db *DB) error {
	close(db.abandon)
	db.wg.Wait()
	db.once.Do(func() { close(db.closing) })
	return errorsJoin(errorsJoin(db.wal.close(), db.ids.close()), db.bolt.Close())
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// BreakLog closes the write-ahead log's file under the store, so that its next write
// fails as a dying disk's would.
func BreakLog(db *DB) { db.wal.f.Close() }

// FilePageSize is the page size of db's B+tree file.
func FilePageSize(db *DB) int { return db.bolt.Info().PageSize }

// CheckFile runs bbolt's consistency check over db's B+tree file and returns every
// problem it reports.
func CheckFile(db *DB) []error {
	var errs []error
	db.bolt.View(func(btx *bbolt.Tx) error {
		for err := range btx.Check() {
			errs = append(errs, err)
		}
		return nil
	})
	return errs
}
