package grace

import (
	"context"
	"testing"
	"time"
)

func TestContext(t *testing.T) {
	parent, interrupt := context.WithCancel(context.Background())
	ctx, cancel := Context(parent, 50*time.Millisecond)
	defer cancel()
	interrupt()
	select {
	case <-ctx.Done():
		t.Fatal("cancelled with its parent, with no grace")
	case <-time.After(10 * time.Millisecond):
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("not cancelled after the grace period")
	}

	// cancel ends it at once, parent or not.
	ctx, cancel = Context(context.Background(), time.Hour)
	cancel()
	if ctx.Err() == nil {
		t.Fatal("cancel did not cancel")
	}
}
