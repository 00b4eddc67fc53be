package graph

import (
	"context"

	"github.com/agentdesk/agentdesk/workspace"
)

// forward turns hub events whose payload is a P into a subscription's values; other kinds of
// event on the topic are not this subscription's and are skipped, as are those pick maps to
// nil. The output ends when the hub closes the input (the client fell behind, so it must
// re-subscribe and re-query) or when ctx ends.
func forward[P workspace.Payload, T any](ctx context.Context, in <-chan workspace.Event, pick func(P) *T) <-chan *T {
	out := make(chan *T, 1)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-in:
				if !ok {
					return
				}
				p, ok := e.Payload.(P)
				if !ok {
					continue
				}
				v := pick(p)
				if v == nil {
					continue
				}
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
