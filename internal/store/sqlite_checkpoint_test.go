package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCommittedRowsReachTheDatabaseFileWithoutTheWriter checks the background checkpointer: rows
// committed to the log reach the database file on their own, long before the writer's backstop
// (walBackstopPages) would move them. The log file's size is only bounded here: under continuous
// writes the log seldom restarts, so it keeps growing whether or not it is checkpointed.
func TestCommittedRowsReachTheDatabaseFileWithoutTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ckpt.db")
	db, err := Open(ctx, "sqlite:"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	size := func(p string) int64 {
		st, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return st.Size()
	}
	// Let the checkpointer take in what the migrations wrote, then measure from there.
	time.Sleep(2 * checkpointMaxGap)
	before := size(path)
	const rows = 2000 // some 60 pages in the file, a few hundred frames of log: far below the backstop
	for i := range rows {
		e := Exchange{ID: fmt.Sprintf("ck-%05d", i), Role: "acs", Direction: In, Peer: "ds", MessageType: "AReq",
			Outcome: "Y", StartedAt: time.Now()}
		if err := db.RecordExchange(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for size(path) < before+32*4096 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if grown := size(path) - before; grown < 32*4096 {
		t.Fatalf("the database file grew %d bytes after %d committed rows: the log was not checkpointed", grown, rows)
	}
	if wal := size(path + "-wal"); wal > walSizeLimit {
		t.Errorf("the log file is %d bytes, past walSizeLimit", wal)
	}
}

func TestCheckpointGapFollowsTheLoad(t *testing.T) {
	gap, last := checkpointMinGap, 0
	for range 10 { // a quiet store: a few pages between checkpoints
		gap, last = nextCheckpointGap(gap, last, last+3)
	}
	if gap != checkpointMaxGap {
		t.Errorf("quiet: gap %v, want %v", gap, checkpointMaxGap)
	}
	for range 10 { // a busy one: far more than checkpointPages each time
		gap, last = nextCheckpointGap(gap, last, last+4*checkpointPages)
	}
	if gap != checkpointMinGap {
		t.Errorf("busy: gap %v, want %v", gap, checkpointMinGap)
	}
	if g, l := nextCheckpointGap(checkpointMinGap, 5000, 10); g != checkpointMinGap*2 || l != 10 {
		t.Errorf("after the log restarts: %v %d", g, l)
	}
}
