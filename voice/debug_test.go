package voice_test

import (
	"log/slog"
	"os"
)

func init() {
	if os.Getenv("VOICE_DEBUG") != "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
}
