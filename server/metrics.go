package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are served on /metrics in Prometheus format.
type metrics struct {
	registry       *prometheus.Registry
	operations     *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	websockets     prometheus.Gauge
	storeRoundTrip prometheus.Histogram
	rateLimited    *prometheus.CounterVec
	timerErrors    prometheus.Counter
	offers         *prometheus.CounterVec
	unparks        *prometheus.CounterVec
	transfers      *prometheus.CounterVec
	socketsRevoked prometheus.Counter
	socketsRefused prometheus.Counter
	webhooks       *prometheus.CounterVec
	assistChoices  *prometheus.CounterVec
	assistRate     *prometheus.GaugeVec
	assistMu       sync.Mutex
	assistCounts   map[string]*[2]float64
	crmDeliveries  *prometheus.CounterVec
	crmDuration    prometheus.Histogram
	store          workspace.Store
}

func newMetrics(store workspace.Store) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		store:    store,
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentdesk_graphql_operations_total",
			Help: "GraphQL operations by type, root field and outcome (ok or error).",
		}, []string{"type", "field", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "agentdesk_graphql_operation_duration_seconds",
			Help:    "Time to the first response of a GraphQL operation, by type and root field.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 14),
		}, []string{"type", "field"}),
		websockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agentdesk_websockets_open",
			Help: "Open GraphQL websocket connections.",
		}),
		storeRoundTrip: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "agentdesk_store_round_trip_seconds",
			Help:    "Round trip of a ping to the database, sampled every 10 s and on /readyz.",
			Buckets: prometheus.ExponentialBuckets(0.00002, 2.5, 14),
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentdesk_webchat_rate_limited_total",
			Help: "Webchat contact requests refused by the flood limit, by the limit hit (ip or token).",
		}, []string{"limit"}),
		timerErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agentdesk_scheduler_errors_total",
			Help: "Scheduler ticks or sweeps that could not finish; the next one retries.",
		}),
	}
	m.offers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentdesk_offers_total",
		Help: "Offers made, expired and rescinded on this node, by kind and whether it was a transfer offer.",
	}, []string{"kind", "transfer"})
	m.unparks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentdesk_unparks_total",
		Help: "Parked interactions a contact's reply woke on this node, by where they went: ACTIVE (back to the agent), QUEUED (post-parking plan) or WRAP (no post-parking plan).",
	}, []string{"state"})
	m.transfers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentdesk_transfers_total",
		Help: "Transfers decided on this node, by outcome, reason (for REJECTED) and target (agent or plan).",
	}, []string{"outcome", "reason", "target"})
	m.socketsRevoked = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "agentdesk_websockets_revoked_total",
		Help: "Websockets closed (4403) because their credential was revoked or expired.",
	})
	m.socketsRefused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "agentdesk_websockets_refused_total",
		Help: "Websocket upgrades refused (429) because the address held its share of unauthenticated sockets.",
	})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentdesk_webhooks_total",
		Help: "Provider webhook calls by provider and outcome: ok, duplicate, unmatched_status, or the HTTP status refused with.",
	}, []string{"provider", "outcome"})
	m.assistChoices = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentdesk_assist_choices_total",
		Help: "Interactions completed on this node whose agent chose a code while Agent Assist suggested some, by plan and whether a suggestion was taken.",
	}, []string{"plan_id", "taken"})
	m.assistRate = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "agentdesk_assist_acceptance_ratio",
		Help: "Share of agentdesk_assist_choices_total where the agent took a suggestion, per plan, on this node since it started.",
	}, []string{"plan_id"})
	m.assistCounts = map[string]*[2]float64{}
	m.registry.MustRegister(m.assistChoices, m.assistRate)
	m.crmDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentdesk_crm_deliveries_total",
		Help: "CRM webhook delivery attempts made by this node, by outcome: the receiver's status class (2xx, 3xx, 4xx, 5xx) or error (no answer: refused, timed out, address not allowed).",
	}, []string{"outcome"})
	m.crmDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "agentdesk_crm_delivery_duration_seconds",
		Help:    "Time a CRM webhook delivery attempt took, to the receiver's answer or the failure.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
	})
	m.registry.MustRegister(m.operations, m.latency, m.websockets, m.storeRoundTrip, m.rateLimited, m.timerErrors,
		m.offers, m.unparks, m.transfers, m.socketsRevoked, m.socketsRefused, m.webhooks, m.crmDeliveries, m.crmDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// aroundOperations counts operations and times them to their first response. The label is
// the operation's first root field, which the schema bounds, rather than the client-chosen
// operation name.
func (m *metrics) aroundOperations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	op := &operationMetrics{m: m, kind: "unknown", field: "unknown"}
	if oc.Operation != nil {
		op.kind = string(oc.Operation.Operation)
		for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, nil) {
			op.field = f.Name
			break
		}
	}
	op.start = time.Now()
	handler := next(ctx)
	// A subscription's goroutine waits for its next event inside this function for the
	// socket's life, so its frame stays small: the counting is in a method of its own.
	return func(ctx context.Context) *graphql.Response {
		resp := handler(ctx)
		if !op.answered {
			op.count(resp)
		}
		return resp
	}
}

// operationMetrics is what aroundOperations counts of one operation.
type operationMetrics struct {
	m           *metrics
	kind, field string
	start       time.Time
	answered    bool
}

// count counts the operation and its time to its first response.
func (op *operationMetrics) count(resp *graphql.Response) {
	op.answered = true
	op.m.latency.WithLabelValues(op.kind, op.field).Observe(time.Since(op.start).Seconds())
	outcome := "ok"
	if resp != nil && len(resp.Errors) > 0 {
		outcome = "error"
	}
	op.m.operations.WithLabelValues(op.kind, op.field, outcome).Inc()
}

// sampleStore pings the database every interval so the round-trip histogram stays current.
func (m *metrics) sampleStore(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			start := time.Now()
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if m.store.Ping(pctx) == nil {
				m.storeRoundTrip.Observe(time.Since(start).Seconds())
			}
			cancel()
		}
	}
}

// countEvents wraps the service's publisher: every event the domain produces on this node
// passes through once (events arriving from other nodes go to the hub directly), so summed
// over nodes each offer, unpark and transfer counts once.
func (m *metrics) countEvents(next workspace.Publisher) workspace.Publisher {
	return publisherFunc(func(e workspace.Event) {
		switch p := e.Payload.(type) { // the kinds counted; others pass uncounted
		case *workspace.OfferEvent:
			m.offers.WithLabelValues(string(p.Kind), fmt.Sprint(p.Offer.TransferredBy != "")).Inc()
		case *workspace.UnparkEvent:
			m.unparks.WithLabelValues(string(p.Interaction.State)).Inc()
		case *workspace.InteractionEvent:
			if ix := p.Interaction; ix != nil && ix.State == workspace.Completed && ix.Assisted != "" {
				m.countAssist(ix.PlanID, ix.Assisted == workspace.SuggestionTaken)
			}
		case *workspace.TransferEvent:
			target, reason := "agent", string(p.Reason)
			if p.TargetAgentID == "" {
				target = "plan"
			}
			if reason == "" {
				reason = "none"
			}
			m.transfers.WithLabelValues(string(p.Outcome), reason, target).Inc()
		}
		next.Publish(e)
	})
}

type publisherFunc func(workspace.Event)

func (f publisherFunc) Publish(e workspace.Event) { f(e) }

// countAssist counts a completion where Agent Assist had suggested codes, and updates the
// plan's acceptance rate.
func (m *metrics) countAssist(planID string, taken bool) {
	m.assistChoices.WithLabelValues(planID, fmt.Sprint(taken)).Inc()
	m.assistMu.Lock()
	defer m.assistMu.Unlock()
	c := m.assistCounts[planID]
	if c == nil {
		c = new([2]float64)
		m.assistCounts[planID] = c
	}
	c[1]++
	if taken {
		c[0]++
	}
	m.assistRate.WithLabelValues(planID).Set(c[0] / c[1])
}
