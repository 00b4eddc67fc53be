package graph

import (
	"context"

	"github.com/agentdesk/agentdesk/workspace"
)

// forward turns hub events into a subscription's payloads. pick returns nil for events the
// subscription does not carry. The output ends when the hub closes the input (the client
// fell behind, so it must re-subscribe and re-query) or when ctx ends.
func forward[T any](ctx context.Context, in <-chan workspace.Event, pick func(workspace.Event) *T) <-chan *T {
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
				v := pick(e)
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
