package workspace

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ProviderCatalog checks identities' provider settings; the server fills it from the provider
// adapters it mounts, so the domain knows no provider.
type ProviderCatalog interface {
	// CheckSettings returns the settings with defaults filled in, or an error naming the
	// missing or invalid setting; an unknown provider is an error too.
	CheckSettings(provider string, ch Channel, settings map[string]string) (map[string]string, error)
}

// IdentityInput creates an identity (ID empty) or changes one; nil fields keep their value.
type IdentityInput struct {
	ID       string
	Channel  *Channel
	Address  *string
	Name     *string
	Outbound *bool
	PlanID   *string
	Provider *string
	// Settings is a JSON object of strings. On a change, the keys given replace the stored
	// ones and the others stay, so secrets need not be sent again.
	Settings *string
}

// providerChannels are the channels whose identities a provider adapter carries today.
var providerChannels = []Channel{SMS, RCS, WhatsApp, Email, Voice}

// e164 is an international phone number: +, a country code, at most 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// NormalisePhone returns a phone number in E.164 form, ignoring spaces, dots, dashes and
// brackets, or INVALID naming field.
func NormalisePhone(s, field string) (string, error) {
	n := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" .-()\u00a0", r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if strings.HasPrefix(n, "00") {
		n = "+" + n[2:]
	}
	if !e164.MatchString(n) {
		return "", &Error{Code: EINVALID, Message: "not a phone number in international form, e.g. +447700900123", Field: []string{field}}
	}
	return n, nil
}

// SaveIdentity creates or changes a channel identity (supervisors only).
func (s *Service) SaveIdentity(ctx context.Context, in IdentityInput) (*Identity, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	if in.ID == "" {
		id := &Identity{ID: uuid.NewString(), CreatedAt: s.Clock.Now(), Settings: map[string]string{}}
		if err := s.applyIdentity(ctx, id, in, true); err != nil {
			return nil, err
		}
		if err := s.Store.CreateIdentity(ctx, id); err != nil {
			return nil, identityConflict(err)
		}
		return id, nil
	}
	if err := checkID(in.ID); err != nil {
		return nil, &Error{Code: EINVALID, Message: "not a valid identity ID: IDs are UUIDs", Field: []string{"identityId"}}
	}
	_, id, err := guardedWrite(ctx, nil,
		func(ctx context.Context) (*Identity, error) { return s.Store.Identity(ctx, in.ID) },
		func(id *Identity) error { return s.applyIdentity(ctx, id, in, false) },
		func(ctx context.Context, _, id *Identity) error { return s.Store.UpdateIdentity(ctx, id) })
	if err != nil {
		return nil, identityConflict(err)
	}
	return id, nil
}

// identityConflict explains a CONFLICT on save: the channel and address are taken.
func identityConflict(err error) error {
	if ErrorCode(err) == ECONFLICT {
		return &Error{Code: EINVALID, Message: "another identity already uses this address on this channel", Field: []string{"address"}}
	}
	return err
}

// applyIdentity validates the input's fields and copies them onto id.
func (s *Service) applyIdentity(ctx context.Context, id *Identity, in IdentityInput, create bool) error {
	if create && (in.Channel == nil || in.Address == nil || in.Name == nil || in.PlanID == nil || in.Provider == nil) {
		return &Error{Code: EINVALID, Message: "a new identity needs channel, address, name, planId and provider", Field: []string{"identityId"}}
	}
	if in.Channel != nil {
		if !slices.Contains(providerChannels, *in.Channel) {
			return &Error{Code: EINVALID, Message: "identities carry SMS, RCS, WHATSAPP, EMAIL or VOICE", Field: []string{"channel"}}
		}
		if !create && *in.Channel != id.Channel && (*in.Channel == Email) != (id.Channel == Email) && in.Address == nil {
			return &Error{Code: EINVALID, Message: "an identity changing between email and a phone channel needs its new address", Field: []string{"address"}}
		}
		id.Channel = *in.Channel
	}
	if in.Address != nil {
		normalise := NormalisePhone
		if id.Channel == Email {
			normalise = NormaliseEmail
		}
		addr, err := normalise(*in.Address, "address")
		if err != nil {
			return err
		}
		id.Address = addr
	}
	if in.Name != nil {
		name := NormaliseName(*in.Name)
		if IsBlank(name) || utf8.RuneCountInString(name) > maxNameChars {
			return &Error{Code: EINVALID, Message: "the name must show something, in at most 100 characters", Field: []string{"name"}}
		}
		id.Name = name
	}
	if in.Outbound != nil {
		id.Outbound = *in.Outbound
	}
	if in.PlanID != nil {
		id.PlanID = *in.PlanID
	}
	if in.PlanID != nil || in.Channel != nil {
		if err := s.checkPlanTakes(ctx, id.PlanID, id.Channel, "planId"); err != nil {
			return err
		}
	}
	settings := maps.Clone(id.Settings)
	if in.Provider != nil {
		if p := strings.TrimSpace(*in.Provider); p != id.Provider {
			id.Provider, settings = p, nil // another provider's settings mean nothing to this one
		}
	}
	if settings == nil {
		settings = map[string]string{}
	}
	if in.Settings != nil {
		given, err := settingsJSON(*in.Settings)
		if err != nil {
			return err
		}
		maps.Copy(settings, given)
	}
	if s.Providers == nil {
		return Errorf(EINTERNAL, "no provider catalog is configured")
	}
	checked, err := s.Providers.CheckSettings(id.Provider, id.Channel, settings)
	if err != nil {
		return &Error{Code: EINVALID, Message: "provider " + id.Provider + ": " + err.Error(), Field: []string{"settings"}}
	}
	id.Settings = checked
	return nil
}

// checkPlanTakes checks that a plan exists and takes the channel.
func (s *Service) checkPlanTakes(ctx context.Context, planID string, ch Channel, field string) error {
	if checkID(planID) != nil {
		return &Error{Code: EINVALID, Message: "not a valid plan ID: IDs are UUIDs", Field: []string{field}}
	}
	p, err := s.Store.Plan(ctx, planID)
	if ErrorCode(err) == ENOTFOUND {
		return &Error{Code: EINVALID, Message: "no such plan", Field: []string{field}}
	} else if err != nil {
		return err
	}
	if !slices.Contains(p.Channels, ch) {
		return &Error{Code: EINVALID, Message: "plan " + p.Name + " does not take " + string(ch), Field: []string{field}}
	}
	return nil
}

// Identities lists the identities an agent may use, optionally of one channel or only those
// configured for outbound starts (O1).
func (s *Service) Identities(ctx context.Context, ch *Channel, outboundOnly bool) ([]*Identity, error) {
	if _, err := RequireAgent(ctx); err != nil {
		return nil, err
	}
	all, err := s.Store.Identities(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(id *Identity) bool {
		return (ch != nil && id.Channel != *ch) || (outboundOnly && !id.Outbound)
	}), nil
}

// IdentityOf returns an interaction's identity, nil for webchat; readers of the interaction
// may see it.
func (s *Service) IdentityOf(ctx context.Context, ix *Interaction) (*Identity, error) {
	if ix.IdentityID == "" {
		return nil, nil
	}
	return s.Store.Identity(ctx, ix.IdentityID)
}

// TemplateInput records a template Meta approved for a WhatsApp identity (O2).
type TemplateInput struct {
	IdentityID string
	Name       string
	Language   string
	Body       string
}

var (
	// templateName is Meta's rule for template names.
	templateName = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	// templateLanguage is a language code such as en or en_US.
	templateLanguage = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
	// placeholder is a template body's {{n}}.
	placeholder = regexp.MustCompile(`\{\{\s*([0-9]+)\s*\}\}`)
)

// maxTemplateChars is the longest template body Meta accepts.
const maxTemplateChars = 1024

// SaveTemplate records an approved template of a WhatsApp identity (supervisors only).
func (s *Service) SaveTemplate(ctx context.Context, in TemplateInput) (*Template, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	id, err := s.identityField(ctx, in.IdentityID)
	if err != nil {
		return nil, err
	}
	if id.Channel != WhatsApp {
		return nil, &Error{Code: EINVALID, Message: "templates belong to WhatsApp identities", Field: []string{"identityId"}}
	}
	if !templateName.MatchString(in.Name) {
		return nil, &Error{Code: EINVALID, Message: "a template name is lower-case letters, digits and underscores, as approved by Meta", Field: []string{"name"}}
	}
	if !templateLanguage.MatchString(in.Language) {
		return nil, &Error{Code: EINVALID, Message: "a language code such as en or en_US", Field: []string{"language"}}
	}
	body := NormaliseText(in.Body)
	if IsBlank(body) || utf8.RuneCountInString(body) > maxTemplateChars {
		return nil, &Error{Code: EINVALID, Message: "the body must show something, in at most 1024 characters", Field: []string{"body"}}
	}
	n, err := parameterCount(body)
	if err != nil {
		return nil, err
	}
	t := &Template{ID: uuid.NewString(), IdentityID: id.ID, Name: in.Name, Language: in.Language, Body: body,
		ParameterCount: n, CreatedAt: s.Clock.Now()}
	if err := s.Store.CreateTemplate(ctx, t); ErrorCode(err) == ECONFLICT {
		return nil, &Error{Code: EINVALID, Message: "this identity already has a template of this name and language", Field: []string{"name"}}
	} else if err != nil {
		return nil, err
	}
	return t, nil
}

// parameterCount counts a body's placeholders, which must be {{1}} … {{n}} with none missing.
func parameterCount(body string) (int, error) {
	seen := map[int]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(body, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 || n > 100 {
			return 0, &Error{Code: EINVALID, Message: "placeholders are {{1}}, {{2}}, … up to {{100}}", Field: []string{"body"}}
		}
		seen[n] = true
	}
	for i := 1; i <= len(seen); i++ {
		if !seen[i] {
			return 0, &Error{Code: EINVALID, Message: "placeholder {{" + strconv.Itoa(i) + "}} is missing: number them from 1 without gaps", Field: []string{"body"}}
		}
	}
	return len(seen), nil
}

// Render fills a template's placeholders with parameters, checking their number.
func (t *Template) Render(params []string) (string, error) {
	if len(params) != t.ParameterCount {
		return "", &Error{Code: EINVALID, Message: "template " + t.Name + " takes " + strconv.Itoa(t.ParameterCount) + " parameters", Field: []string{"templateParameters"}}
	}
	for i, p := range params {
		if IsBlank(p) || strings.ContainsAny(p, "\n\t") {
			return "", &Error{Code: EINVALID, Message: "template parameter " + strconv.Itoa(i+1) + " must show something, on one line", Field: []string{"templateParameters"}}
		}
	}
	return placeholder.ReplaceAllStringFunc(t.Body, func(m string) string {
		n, _ := strconv.Atoi(placeholder.FindStringSubmatch(m)[1])
		return NormaliseName(params[n-1])
	}), nil
}

// Templates lists a WhatsApp identity's templates.
func (s *Service) Templates(ctx context.Context, identityID string) ([]*Template, error) {
	if _, err := RequireAgent(ctx); err != nil {
		return nil, err
	}
	if err := checkID(identityID); err != nil {
		return nil, &Error{Code: EINVALID, Message: "not a valid identity ID: IDs are UUIDs", Field: []string{"identityId"}}
	}
	return s.Store.Templates(ctx, identityID)
}

// identityField loads the identity an input names, INVALID on identityId when it is not one.
func (s *Service) identityField(ctx context.Context, identityID string) (*Identity, error) {
	if checkID(identityID) != nil {
		return nil, &Error{Code: EINVALID, Message: "not a valid identity ID: IDs are UUIDs", Field: []string{"identityId"}}
	}
	id, err := s.Store.Identity(ctx, identityID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, &Error{Code: EINVALID, Message: "no such identity", Field: []string{"identityId"}}
	}
	return id, err
}

// settingsJSON reads identity settings: a JSON object whose values are strings, numbers,
// booleans or objects (an email identity's imap); anything but a string is kept as its JSON
// text, which the provider's CheckSettings reads.
func settingsJSON(text string) (map[string]string, error) {
	bad := &Error{Code: EINVALID, Message: "settings must be a JSON object of strings (or, for email, numbers and the imap object)", Field: []string{"settings"}}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil || raw == nil {
		return nil, bad
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if string(v) == "null" {
			return nil, bad
		}
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = s
			continue
		}
		var val any
		if err := json.Unmarshal(v, &val); err != nil || val == nil {
			return nil, bad
		}
		if _, isList := val.([]any); isList {
			return nil, bad
		}
		compact, _ := json.Marshal(val)
		out[k] = string(compact)
	}
	return out, nil
}
