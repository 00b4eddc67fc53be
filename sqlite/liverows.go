package sqlite

import "sync"

// liveRows keeps, for each live interaction, the column values its last committed write
// stored and the version that write made, so that an update finds the columns it changes
// (changedColumns) without reading the row inside the transaction, on the one writer (issue
// 14: six such reads per webchat cycle). Only writes keep or drop an entry, in their done
// step: after their commit, in commit order, before the writer is handed on. So a write that
// finds an entry for the version it is guarded on finds what the table holds, as long as this
// store is the table's only writer (the embedded store is one process, sqlite.Own). A write
// guarded on another version, or on a row changed earlier in the same transaction, finds
// none and reads the row; a write that failed or rolled back keeps nothing.
type liveRows struct {
	mu   sync.Mutex
	rows map[string]storedRow
}

// storedRow is a live row's columns (interactionColumns) at a version; none when the row is
// gone.
type storedRow struct {
	version int64
	columns []any
}

// get returns the columns stored at version, if those are the last the store wrote.
func (r *liveRows) get(id string, version int64) ([]any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	row, ok := r.rows[id]
	if !ok || row.version != version {
		return nil, false
	}
	return row.columns, true
}

// committed keeps the row a committed write stored, or drops it when the write had none.
func (r *liveRows) committed(id string, row storedRow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if row.columns == nil {
		delete(r.rows, id)
		return
	}
	if r.rows == nil {
		r.rows = map[string]storedRow{}
	}
	putBounded(r.rows, id, row)
}

// moved applies a committed message's move of the row's updated_at, which leaves its version.
func (r *liveRows) moved(id string, updatedAt int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	row, ok := r.rows[id]
	if !ok {
		return
	}
	columns := append([]any(nil), row.columns...)
	columns[updatedColumn] = updatedAt
	r.rows[id] = storedRow{version: row.version, columns: columns}
}
