package workspace

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// demoAssistCodes are the demo Support plan's codes besides the general ones, so Agent Assist
// has requests to tell apart (a lost card, a refund, a delivery).
var demoAssistCodes = []DispositionCode{
	{Code: "CARD_LOST", Label: "Card lost or stolen"},
	{Code: "REFUND", Label: "Refund"},
	{Code: "DELIVERY", Label: "Delivery question"},
	{Code: "PASSWORD_RESET", Label: "Password reset"},
}

// demoRequests are the phrases of generated requests per code; a request combines an opener,
// one phrase and a detail.
var demoRequests = map[string][]string{
	"CARD_LOST": {"I lost my card", "my card was stolen", "I can't find my bank card anywhere", "someone took my wallet with my card",
		"please block my card, it's gone", "my debit card is missing", "I think I left my card at a shop and it's lost", "freeze my card, it was stolen"},
	"REFUND": {"I want my money back", "can I get a refund for my order", "I was charged twice and need a refund", "please refund the item I returned",
		"the refund hasn't arrived yet", "how long does a refund take", "I returned the product, where is my refund", "cancel and refund my purchase"},
	"DELIVERY": {"where is my parcel", "my order hasn't arrived", "the delivery is late", "can you track my package",
		"the courier never came", "when will my order be delivered", "the parcel was delivered to the wrong address", "my package is stuck in transit"},
	"PASSWORD_RESET": {"I forgot my password", "I can't log in to my account", "the password reset email never came", "my account is locked",
		"how do I change my password", "the login page says my password is wrong", "I need to reset my password", "I'm locked out of the app"},
	"RESOLVED": {"just a quick question about your opening hours", "what are your fees", "how do I update my address",
		"do you have an app", "can I change my email address", "what is your phone number for business customers"},
	"FOLLOW_UP": {"I called last week and nobody got back to me", "any news on my complaint", "you promised to call me back",
		"I'm still waiting for an answer to my email", "checking in on the case I opened", "following up on my earlier request"},
	"ESCALATED": {"I want to speak to a manager", "this is unacceptable, I want to complain", "I will take this to the ombudsman",
		"your service is terrible and I want to escalate", "put me through to someone senior", "I'm filing a formal complaint"},
	"SALE": {"I'd like to buy the premium plan", "how much is the family package", "can I upgrade my subscription",
		"I want to order three more licences", "do you have a discount if I buy today", "I'd like to sign up for the yearly plan"},
	"NO_ANSWER": {"hello?", "hi", "are you there", "hey", "ok", "test"},
}

var (
	demoOpeners = []string{"", "Hi, ", "Hello, ", "Good morning, ", "Hey there, ", "Excuse me, "}
	demoDetails = []string{"", " today", " yesterday", " please help", " what should I do?", " can you help me?", " thanks", " it's urgent"}
)

// demoExamplesPerCode is how much generated history each demo code gets: enough that
// suggestions appear at once (MinAssistHistory, MinCodeExamples).
const demoExamplesPerCode = 30

// seedAssistHistory gives a demo plan generated Agent Assist history for its codes, so
// suggestions appear from the first chat. Its IDs are fixed, so seeding again adds nothing.
func (s *Service) seedAssistHistory(ctx context.Context, planID string) error {
	plan, err := s.Store.Plan(ctx, planID)
	if err != nil || !plan.DispositionAssist {
		return err
	}
	// Another node, or an earlier start, seeded it already: the demo IDs sort first.
	if first, err := s.Store.AssistExamples(ctx, planID, "", 1); err != nil || (len(first) == 1 && strings.HasPrefix(first[0].ID, fmt.Sprintf("%013x.demo-", 0))) {
		return err
	}
	rng := rand.New(rand.NewPCG(4, 17))
	for _, c := range plan.DispositionCodes {
		phrases := demoRequests[c.Code]
		if len(phrases) == 0 {
			continue
		}
		for i := range demoExamplesPerCode {
			text := demoOpeners[rng.IntN(len(demoOpeners))] + phrases[(i+rng.IntN(2))%len(phrases)] + demoDetails[rng.IntN(len(demoDetails))]
			text += "\nHi, thanks for contacting us. I can help with that."
			e := &AssistExample{ID: fmt.Sprintf("%013x.demo-%03d.%s", 0, i, c.Code), PlanID: planID, Code: c.Code,
				Text: strings.TrimSpace(text), At: time.Unix(0, 0).UTC()}
			if err := s.Store.AddAssistExample(ctx, e); err != nil && ErrorCode(err) != ECONFLICT {
				return err
			}
		}
	}
	return nil
}
