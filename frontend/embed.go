// Package frontend embeds the built agent SPA, playground and webchat assets (dist/), so
// one binary serves everything. `npm run build` in this folder fills dist/; a fresh clone
// holds only dist/.gitkeep, and the server then explains how to build the SPA.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built assets, rooted at dist/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded above, so Sub cannot fail
	}
	return sub
}
