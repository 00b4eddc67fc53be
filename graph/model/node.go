// Package model holds gqlgen's generated models (models_gen.go) and the few hand-written
// types they bind to.
package model

// Node is what Query.node returns: a domain object with an ID (*workspace.Agent,
// *workspace.Plan, ...). It is bound in gqlgen.yml so domain types need no marker methods.
type Node interface{}
