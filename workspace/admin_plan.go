package workspace

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// PlanChange creates or changes a plan; nil fields stay as they are (or take the defaults on
// create).
type PlanChange struct {
	// PlanID is "" on create.
	PlanID string
	// Version, when set, is the version the supervisor edited: a plan changed since is
	// CONFLICT, with the current plan returned, so no edit silently overwrites another.
	Version              *int64
	Name                 *string
	Channels             *[]Channel
	DispositionCodes     *[]DispositionCode
	DispositionRequired  *bool
	WrapSeconds          *int
	OfferTimeoutSeconds  *int
	AutoAccept           *bool
	AutoParkSeconds      *int
	ParkedTimeoutSeconds *int
	// PostParkingPlanID "" removes the post-parking plan.
	PostParkingPlanID *string
	DispositionAssist *bool
	SummaryAssist     *bool
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,40}$`)

// apply writes the change's fields onto p.
func (c PlanChange) apply(p *Plan) {
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	if c.Name != nil {
		p.Name = NormaliseName(*c.Name)
	}
	if c.Channels != nil {
		p.Channels = slices.Clone(*c.Channels)
	}
	if c.DispositionCodes != nil {
		p.DispositionCodes = make([]DispositionCode, len(*c.DispositionCodes))
		for i, d := range *c.DispositionCodes {
			p.DispositionCodes[i] = DispositionCode{Code: strings.TrimSpace(d.Code), Label: NormaliseName(d.Label)}
		}
	}
	if c.DispositionRequired != nil {
		p.DispositionRequired = *c.DispositionRequired
	}
	if c.AutoAccept != nil {
		p.AutoAccept = *c.AutoAccept
	}
	if c.DispositionAssist != nil {
		p.DispositionAssist = *c.DispositionAssist
	}
	if c.SummaryAssist != nil {
		p.SummaryAssist = *c.SummaryAssist
	}
	set(&p.WrapSeconds, c.WrapSeconds)
	set(&p.OfferTimeoutSeconds, c.OfferTimeoutSeconds)
	set(&p.AutoParkSeconds, c.AutoParkSeconds)
	set(&p.ParkedTimeoutSeconds, c.ParkedTimeoutSeconds)
	if c.PostParkingPlanID != nil {
		p.PostParkingPlanID = *c.PostParkingPlanID
	}
}

// checkPlan validates a plan as it would be stored.
func checkPlan(p *Plan) error {
	switch {
	case IsBlank(p.Name) || utf8.RuneCountInString(p.Name) > maxNameChars:
		return fieldError(EINVALID, "name", "a plan needs a name of 1 to %d characters", maxNameChars)
	case len(p.Channels) == 0:
		return fieldError(EINVALID, "channels", "a plan takes at least one channel")
	case len(p.DispositionCodes) > MaxDispositionCodes:
		return fieldError(EINVALID, "dispositionCodes", "a plan has at most %d codes", MaxDispositionCodes)
	case p.DispositionRequired && len(p.DispositionCodes) == 0:
		return fieldError(EINVALID, "dispositionRequired", "codes cannot be required when the plan has none")
	case p.WrapSeconds < 0 || p.WrapSeconds > MaxWrapSeconds:
		return fieldError(EINVALID, "wrapSeconds", "the wrap timer is 0 (none) to %d seconds", MaxWrapSeconds)
	case p.OfferTimeoutSeconds < MinOfferTimeout || p.OfferTimeoutSeconds > MaxOfferTimeout:
		return fieldError(EINVALID, "offerTimeoutSeconds", "the offer timeout is %d to %d seconds", MinOfferTimeout, MaxOfferTimeout)
	case p.AutoParkSeconds != 0 && (p.AutoParkSeconds < MinAutoParkSecs || p.AutoParkSeconds > MaxAutoParkSecs):
		return fieldError(EINVALID, "autoParkSeconds", "auto-park is 0 (off) or %d to %d seconds", MinAutoParkSecs, MaxAutoParkSecs)
	case p.ParkedTimeoutSeconds < MinParkedTimeout || p.ParkedTimeoutSeconds > MaxParkedTimeout:
		return fieldError(EINVALID, "parkedTimeoutSeconds", "the parked timeout is %d to %d seconds", MinParkedTimeout, MaxParkedTimeout)
	}
	seen := map[Channel]bool{}
	for _, ch := range p.Channels {
		if !slices.Contains(Channels, ch) || seen[ch] {
			return fieldError(EINVALID, "channels", "unknown or repeated channel %q", ch)
		}
		seen[ch] = true
	}
	codes := map[string]bool{}
	for _, d := range p.DispositionCodes {
		if !codePattern.MatchString(d.Code) {
			return fieldError(EINVALID, "dispositionCodes", "a code is 1 to 40 letters, digits or _: %q is not", d.Code)
		}
		if IsBlank(d.Label) || utf8.RuneCountInString(d.Label) > maxNameChars {
			return fieldError(EINVALID, "dispositionCodes", "code %s needs a label of 1 to %d characters", d.Code, maxNameChars)
		}
		if codes[strings.ToUpper(d.Code)] {
			return fieldError(EINVALID, "dispositionCodes", "the code %s is repeated", d.Code)
		}
		codes[strings.ToUpper(d.Code)] = true
	}
	return nil
}

// checkPlanRefs checks what a plan points at among all plans: a unique name, and a
// post-parking plan that exists and does not lead back to it through other plans (CYCLE). A
// plan that is its own post-parking plan wakes parked work into its own queue, as the demo's
// Support does: that is no cycle, since a woken interaction moves one hop at most.
func checkPlanRefs(p *Plan, all []*Plan) error {
	byID := map[string]*Plan{p.ID: p}
	for _, q := range all {
		if q.ID != p.ID {
			byID[q.ID] = q
			if strings.EqualFold(q.Name, p.Name) {
				return fieldError(ETAKEN, "name", "another plan is named %s", q.Name)
			}
		}
	}
	next := p.PostParkingPlanID
	if next == "" {
		return nil
	}
	if checkID(next) != nil || byID[next] == nil {
		return fieldError(ENOTFOUND, "postParkingPlanId", "no interaction plan has the ID %s", next)
	}
	if next == p.ID {
		return nil
	}
	for hop := 0; next != "" && hop < maxPostParkingHop; hop++ {
		if next == p.ID {
			return fieldError(ECYCLE, "postParkingPlanId", "post-parking plans would lead back to %s", p.Name)
		}
		q := byID[next]
		if q == nil {
			return nil
		}
		next = q.PostParkingPlanID
	}
	return nil
}

// CreatePlan creates an interaction plan (supervisors only). Absent settings take the
// defaults: 30 s offers (P5), auto-park after 10 minutes (K2), an hour's parked timeout (K5).
func (s *Service) CreatePlan(ctx context.Context, c PlanChange) (*Plan, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	p := &Plan{
		ID: uuid.NewString(), OfferTimeoutSeconds: DefaultOfferTimeout,
		AutoParkSeconds: DefaultAutoParkSeconds, ParkedTimeoutSeconds: DefaultParkedTimeout,
		CreatedAt: s.Clock.Now(),
	}
	c.apply(p)
	if err := checkPlan(p); err != nil {
		return nil, err
	}
	all, err := s.Store.Plans(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPlanRefs(p, all); err != nil {
		return nil, err
	}
	if err := s.Store.CreatePlan(ctx, p); ErrorCode(err) == ECONFLICT {
		return nil, fieldError(ETAKEN, "name", "another plan is named %s", p.Name)
	} else if err != nil {
		return nil, err
	}
	s.audit(ctx, "plan.create", AuditPlan, p.ID, p.Name, nil, planSnapshot(p))
	s.queueChanged(p.ID)
	return p, nil
}

// UpdatePlan changes a plan (supervisors only). With c.Version set, a plan someone else
// changed meanwhile is CONFLICT and the current plan is returned with the error. New
// timers use the new settings; timers already running keep their deadlines. Taking a channel
// away is IN_USE while interactions of that channel wait in the plan's queue.
func (s *Service) UpdatePlan(ctx context.Context, c PlanChange) (*Plan, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	if checkID(c.PlanID) != nil {
		return nil, fieldError(EINVALID, "planId", "not a valid ID: IDs are UUIDs")
	}
	var before *Plan
	_, p, err := guardedWrite(ctx, nil,
		func(ctx context.Context) (*Plan, error) { return s.Store.Plan(ctx, c.PlanID) },
		func(p *Plan) error {
			b := *p
			before = &b
			if c.Version != nil && *c.Version != p.Version {
				return &Error{Code: ECONFLICT, Message: "someone else changed this plan meanwhile; these are its current settings"}
			}
			// Plans stored with 0 meaning "the default" get the default written out.
			if p.OfferTimeoutSeconds == 0 {
				p.OfferTimeoutSeconds = DefaultOfferTimeout
			}
			if p.ParkedTimeoutSeconds == 0 {
				p.ParkedTimeoutSeconds = DefaultParkedTimeout
			}
			c.apply(p)
			if err := checkPlan(p); err != nil {
				return err
			}
			all, err := s.Store.Plans(ctx)
			if err != nil {
				return err
			}
			if err := checkPlanRefs(p, all); err != nil {
				return err
			}
			return s.checkChannelsInUse(ctx, before, p)
		},
		func(ctx context.Context, _, p *Plan) error { return s.Store.UpdatePlan(ctx, p) })
	if ErrorCode(err) == ENOTFOUND && before == nil {
		return nil, fieldError(ENOTFOUND, "planId", "no interaction plan has this ID")
	}
	if ErrorCode(err) == ECONFLICT {
		return before, err
	}
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "plan.update", AuditPlan, p.ID, p.Name, planSnapshot(before), planSnapshot(p))
	s.queueChanged(p.ID)
	s.offerWaiting(ctx, []string{p.ID})
	return p, nil
}

// checkChannelsInUse refuses to take a channel from a plan while its queue holds
// interactions of that channel: they could never be offered.
func (s *Service) checkChannelsInUse(ctx context.Context, before, p *Plan) error {
	var removed []Channel
	for _, ch := range before.Channels {
		if !slices.Contains(p.Channels, ch) {
			removed = append(removed, ch)
		}
	}
	if len(removed) == 0 {
		return nil
	}
	waiting, err := s.Store.LiveInteractions(ctx, LiveFilter{PlanIDs: []string{p.ID}, States: []InteractionState{Queued, Offered}})
	if err != nil {
		return err
	}
	n := 0
	for _, ix := range waiting {
		if slices.Contains(removed, ix.Channel) {
			n++
		}
	}
	if n > 0 {
		return fieldError(EINUSE, "channels", "%d interactions of the channels you removed wait in this plan's queue; let them be answered or transfer them first", n)
	}
	return nil
}

// planSnapshot is what the audit log records of a plan.
func planSnapshot(p *Plan) map[string]any {
	return map[string]any{
		"name": p.Name, "channels": p.Channels, "dispositionCodes": p.DispositionCodes,
		"dispositionRequired": p.DispositionRequired, "wrapSeconds": p.WrapSeconds,
		"offerTimeoutSeconds": p.OfferTimeoutSeconds, "autoAccept": p.AutoAccept,
		"autoParkSeconds": p.AutoParkSeconds, "parkedTimeoutSeconds": p.ParkedTimeoutSeconds,
		"postParkingPlanId": p.PostParkingPlanID,
		"dispositionAssist": p.DispositionAssist, "summaryAssist": p.SummaryAssist,
	}
}
