package mongo

import (
	"context"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// planDoc is a plan as stored in the plans collection.
type planDoc struct {
	ID                  string              `bson:"_id"`
	Name                string              `bson:"name"`
	Channels            []workspace.Channel `bson:"channels"`
	DispositionCodes    []dispositionDoc    `bson:"dispositionCodes"`
	DispositionRequired bool                `bson:"dispositionRequired"`
	WrapSeconds         int                 `bson:"wrapSeconds"`
	OfferTimeoutSeconds int                 `bson:"offerTimeoutSeconds"`
	AutoAccept          bool                `bson:"autoAccept"`
	// AutoParkSeconds is absent from plans stored before parking existed: they get the default.
	AutoParkSeconds      *int      `bson:"autoParkSeconds"`
	ParkedTimeoutSeconds int       `bson:"parkedTimeoutSeconds"`
	PostParkingPlanID    string    `bson:"postParkingPlanId"`
	DispositionAssist    bool      `bson:"dispositionAssist"`
	SummaryAssist        bool      `bson:"summaryAssist"`
	CreatedAt            time.Time `bson:"createdAt"`
	Version              int64     `bson:"version"`
}

// dispositionDoc is one disposition code inside a planDoc.
type dispositionDoc struct {
	Code  string `bson:"code"`
	Label string `bson:"label"`
}

func toPlanDoc(p *workspace.Plan) planDoc {
	var codes []dispositionDoc
	for _, c := range p.DispositionCodes {
		codes = append(codes, dispositionDoc{Code: c.Code, Label: c.Label})
	}
	return planDoc{
		ID: p.ID, Name: p.Name, Channels: p.Channels, DispositionCodes: codes,
		DispositionRequired: p.DispositionRequired, WrapSeconds: p.WrapSeconds,
		OfferTimeoutSeconds: p.OfferTimeoutSeconds, AutoAccept: p.AutoAccept,
		AutoParkSeconds: &p.AutoParkSeconds, ParkedTimeoutSeconds: p.ParkedTimeoutSeconds,
		PostParkingPlanID: p.PostParkingPlanID, CreatedAt: p.CreatedAt, Version: p.Version,
		DispositionAssist: p.DispositionAssist, SummaryAssist: p.SummaryAssist,
	}
}

func (d *planDoc) plan() *workspace.Plan {
	var codes []workspace.DispositionCode
	for _, c := range d.DispositionCodes {
		codes = append(codes, workspace.DispositionCode{Code: c.Code, Label: c.Label})
	}
	autoPark := workspace.DefaultAutoParkSeconds
	if d.AutoParkSeconds != nil {
		autoPark = *d.AutoParkSeconds
	}
	return &workspace.Plan{
		AutoParkSeconds: autoPark, ParkedTimeoutSeconds: d.ParkedTimeoutSeconds, PostParkingPlanID: d.PostParkingPlanID,
		ID: d.ID, Name: d.Name, Channels: d.Channels, DispositionCodes: codes,
		DispositionRequired: d.DispositionRequired, WrapSeconds: d.WrapSeconds,
		OfferTimeoutSeconds: d.OfferTimeoutSeconds, AutoAccept: d.AutoAccept,
		CreatedAt: d.CreatedAt.UTC(), Version: d.Version,
		DispositionAssist: d.DispositionAssist, SummaryAssist: d.SummaryAssist,
	}
}

// CreatePlan stores a new plan; a taken ID or name is CONFLICT.
func (s *Store) CreatePlan(ctx context.Context, p *workspace.Plan) error {
	return insert(ctx, s.plans, toPlanDoc(p), "Plan")
}

// Plan returns the plan with this ID.
func (s *Store) Plan(ctx context.Context, id string) (*workspace.Plan, error) {
	var d planDoc
	if err := findOne(ctx, s.plans, bson.D{{Key: "_id", Value: id}}, &d, "Plan"); err != nil {
		return nil, err
	}
	return d.plan(), nil
}

// Plans returns every plan ordered by name.
func (s *Store) Plans(ctx context.Context) ([]*workspace.Plan, error) {
	var docs []planDoc
	if err := findAll(ctx, s.plans, "name", &docs); err != nil {
		return nil, err
	}
	plans := make([]*workspace.Plan, len(docs))
	for i := range docs {
		plans[i] = docs[i].plan()
	}
	return plans, nil
}

// UpdatePlan replaces the stored plan if its version is still p.Version, and then
// increments p.Version; otherwise it is CONFLICT.
func (s *Store) UpdatePlan(ctx context.Context, p *workspace.Plan) error {
	d := toPlanDoc(p)
	d.Version++
	if err := replaceVersion(ctx, s.plans, p.ID, p.Version, d, "Plan"); err != nil {
		return err
	}
	p.Version = d.Version
	return nil
}
